"""Settlement exposure per counterparty: replacement cost and principal at risk."""
