"""Statement mappings: named CSV column mappings, kept as data (``/statement-mappings``)."""
