"""The message formats of the contract: our instructions read, the depository's answers written."""
