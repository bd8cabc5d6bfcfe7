"""Effective-dated CSDR penalty rates."""
