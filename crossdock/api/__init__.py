"""The HTTP API (FastAPI): intake, inbound webhooks, status, subscriptions and operations. Thin
routes; the work happens in flows and the engine."""
