"""The trade blotter: every trade of a trade-date range, streamed."""
