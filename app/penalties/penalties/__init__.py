"""Penalties: one row per instruction, day and kind, booked to the journal; reversed, never
edited."""
