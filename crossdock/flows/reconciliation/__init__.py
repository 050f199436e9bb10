"""Reconciliation: orders, invoices and stock compared between the hub, the ERP and the WMS.

Each run of one kind finds drift items (what differs, since when, how much it is worth), keeps
them across runs (:mod:`.store`), and per ownership either applies the owner's value
(:mod:`.correct`) or opens an exception for a person. Runs are started from the command line
(``crossdock reconcile run``), the API, or a schedule (:mod:`.service`), and reported as JSON or
a readable summary (:mod:`.report`).

Kept light on purpose: the migrations import :mod:`.tables` through this package.
"""
