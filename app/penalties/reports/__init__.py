"""The depository's penalty reports (semt.044 or JSON), read and reconciled against ours."""
