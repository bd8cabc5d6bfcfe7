"""GET /reports/breaks: open reconciliation breaks by age and account."""
