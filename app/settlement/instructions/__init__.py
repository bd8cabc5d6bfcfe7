"""Settlement instructions: one per obligation, from creation and repair to settled or cancelled."""
