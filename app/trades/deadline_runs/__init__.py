"""Affirmation deadline runs: flag, once, every trade still unconfirmed after its market's
affirmation cutoff, on the run framework."""
