"""Outbound messages: the instructions and cancellations we send to a depository or custodian."""
