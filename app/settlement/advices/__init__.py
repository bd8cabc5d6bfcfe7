"""Status advices: the CSD's or custodian's sese.024 / sese.025 about our instructions."""
