"""Operations' day across the domains: the reports (`/reports/...`), the dashboard and the
end-of-day cycle. It sits above every domain and reaches them only through their services."""
