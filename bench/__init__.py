"""Benchmarks against PostgreSQL: thin scripts over ``bench.lib``; ``python -m bench`` runs each in
its quick form and prints one table. tests/e2e imports ``bench.lib`` and ``bench.idempotency_race``,
so importing them has no side effect."""
