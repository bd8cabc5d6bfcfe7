"""The Trade aggregate: capture, batch, amendment, cancellation, history, and the trade's
post-trade lifecycle that clearing and settlement drive."""
