"""Manual entries under four-eyes: proposed by one operations key, approved (and posted as one
journal entry) or rejected by another."""
