"""The batch-run framework: every run (clearing, settlement, ...) is a chunk function and a
report on it. The framework owns the run row, its lifecycle, one transaction per chunk,
progress, finish, failure and resume, and the HTTP answer."""
