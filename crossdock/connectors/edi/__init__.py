"""EDI trading partners: the X12 codec (``x12/``), the envelope header read before parsing, and
the transports files travel by (SFTP, a directory drop), behind the port in ``port.py``."""
