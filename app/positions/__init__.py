"""Position keeping: the double-entry journal and everything derived from it."""
