"""Settlement: instructions (with their holds and fails), status advices, settlement runs."""
