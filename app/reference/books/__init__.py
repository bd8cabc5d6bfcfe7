"""Books: the trading books that own positions."""
