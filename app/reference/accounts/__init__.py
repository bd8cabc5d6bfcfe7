"""Our accounts: securities safekeeping and cash."""
