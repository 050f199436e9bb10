"""EDI with X12 trading partners: the file store (every file kept raw, its state and reason),
control numbers, the inbound and outbound file loops over each partner's transport."""
