"""Statements: what banks and custodians send, parsed into one shape."""
