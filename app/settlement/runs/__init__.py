"""Settlement runs: what is due settles against our accounts, on the run framework."""
