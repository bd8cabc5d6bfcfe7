"""The operations dashboard at /dashboard: one HTML page and its own static files (no CDN)."""
