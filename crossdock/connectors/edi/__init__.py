"""EDI trading partners: the X12 codec (`x12/`), partner profiles, transports and the file store."""
