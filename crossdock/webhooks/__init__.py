"""Signed webhooks, out and in (Standard Webhooks).

Outbound, durably, in two steps that each commit atomically:

1. **Fan-out** (`fanout`): the engine consumer group `webhooks.fanout` reads every event and, in the
   transaction that acknowledges the batch (`batch.write`), records one `webhook_messages` row per
   matching subscription. The engine's lease fencing means an event is fanned out exactly once:
   a worker that loses its lease has its messages rolled back with its acknowledgement.
2. **Delivery** (`delivery`, `claims`): each hub process runs a worker that claims due messages
   (`state = pending`, `next_at <= now`, no live lease) by writing a lease token and expiry, sends
   them concurrently (`transport`, keep-alive HTTP/1.1), and records every attempt fenced by the
   token: delivered, retried at `next_at` (schedule with jitter, `Retry-After` honoured for 429 and
   503), dead-lettered when the schedule is exhausted (emitting `webhook.endpoint.failing`), or the
   endpoint disabled (410 Gone, or failing for `failing_days`). The schedule lives in the table,
   so a `kill -9` loses nothing: the lease expires and any hub sends the message again — never
   while the lease holds, so never twice within a lease (at-least-once; receivers dedupe by
   `webhook-id`, the event id). Per-endpoint concurrency caps and strict per-subject ordering are
   applied at claim time, from the database, so they hold across hub processes.

Signing (`signing`): `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,` HMAC-SHA256 over
`id.timestamp.body` with the `whsec_` secret; during a rotation's overlap, one signature per
secret). Destinations (`destinations`): http/https only, every resolved address public unless
allow-listed. Inbound (`inbound`): per-source verification, timestamp tolerance, dedupe by the
sender's id, raw body kept, generic mapping to events. Subscriptions and replay: `store`.
"""
