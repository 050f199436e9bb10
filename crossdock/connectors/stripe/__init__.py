"""Stripe, the first payment gateway: its signed webhooks verified and mapped to canonical
payment reports (:mod:`.inbound`). Crossdock does not call Stripe; Stripe calls Crossdock."""
