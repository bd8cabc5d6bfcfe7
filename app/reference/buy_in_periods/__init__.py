"""Effective-dated CSDR buy-in extension periods per instrument class."""
