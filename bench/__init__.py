"""Benchmarks against PostgreSQL and real uvicorn processes; each prints its figures as a table.

``bench.common`` holds the shared helpers (fresh database, demo data and keys, servers, tables);
tests/e2e imports it too, so it must stay importable without side effects.
"""
