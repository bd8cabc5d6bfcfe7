"""Counterparties: the brokers and banks we trade with, by LEI."""
