"""What the other stages book in the ledger, through this package's service only: trades on
their trade date (and their amendment or cancellation), novations to the CCP, and settlements
(expected, posted in full or in part, voided)."""
