"""Reconciliation: bank and custodian statements against the book (issue 13, being built)."""
