"""A simulated Shopify shop: the Admin GraphQL operations the connector uses, Shopify's
cost-based throttling, and webhooks signed and sent as Shopify sends them (with retries,
re-deliveries and out-of-order deliveries on demand)."""
