"""Settlement: instructions, and (later) settlement runs, status advices, fails and holds."""
