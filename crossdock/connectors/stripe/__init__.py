"""Stripe, the first payment gateway: its signed webhooks verified and mapped to canonical
payment reports (:mod:`.inbound`), and the one call the hub makes to Stripe, ``GET /v1/events``
(:mod:`.api`), to catch up with events whose webhooks were missed."""
