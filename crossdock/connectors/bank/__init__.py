"""Banks: account statements (CAMT.053 XML, CSV) read as payment reports (:mod:`.statements`)."""
