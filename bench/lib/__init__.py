"""What every benchmark shares: database set-up, servers, measurement, profiling, tables, and the
command line."""
