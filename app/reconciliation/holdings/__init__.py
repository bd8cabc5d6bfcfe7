"""Custodian holdings statements: what the custodian says we hold per safekeeping account and
ISIN (semt.002, MT535, CSV, JSON), stored as received and compared with the book."""
