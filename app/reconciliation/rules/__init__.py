"""Reconciliation rules: the matching rules as data, edited by operations, read by the runs."""
