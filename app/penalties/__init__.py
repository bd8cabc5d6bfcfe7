"""CSDR cash penalties: settlement-fail and late-matching-fail penalties per business day."""
