"""Holdings statement parsers: every format into ``model.ParsedHoldingsStatement``. Pure: no
database."""
