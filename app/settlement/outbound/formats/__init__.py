"""The message formats we instruct depositories with: pure writers, no database."""
