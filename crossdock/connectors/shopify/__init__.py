"""The Shopify connector: settings, the GraphQL Admin API client paced to the shop's cost bucket,
the mapping of Shopify's orders to the canonical model, and the shop's operations (orders pulled,
fulfilments, inventory). See ``docs/connectors.md`` (Shopify)."""
