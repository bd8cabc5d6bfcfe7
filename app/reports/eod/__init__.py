"""The end-of-day cycle: one run per business date that runs the day's batch runs in order
(affirmation deadlines, clearing, instructions, settlement, reconciliation, reports), each
step recorded with its status, its child runs and a summary, resumable from the step that
failed."""
