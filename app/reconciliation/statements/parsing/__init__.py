"""Statement parsers: every format into ``model.ParsedStatement``. Pure: no database."""
