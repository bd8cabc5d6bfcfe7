"""Markets and the days they close beyond their holidays calendar."""
