"""The GraphQL Admin API documents the connector sends (API version 2025-01 names), with the
page sizes that keep each query well under Shopify's single-query cost limit (1,000 points)."""

from __future__ import annotations

ORDERS_PAGE = 3
"""Orders per page of the pull: with their first LINES_PAGE lines, about 860 points."""
LINES_PAGE = 20
MORE_LINES_PAGE = 50
"""Lines per page when an order has more than LINES_PAGE (about 600 points)."""
INVENTORY_BATCH = 250
"""``inventorySetQuantities`` takes at most 250 quantities per call."""
ITEMS_PAGE = 50
"""Inventory items looked up per query (by SKU, with their levels at up to LEVELS locations:
about 900 points)."""
LEVELS = 5

_MONEY = "shopMoney { amount currencyCode }"

_LINE = f"""
  id sku name title quantity
  originalUnitPriceSet {{ {_MONEY} }}
  totalDiscountSet {{ {_MONEY} }}
  discountAllocations {{ allocatedAmountSet {{ {_MONEY} }} }}
  taxLines {{ priceSet {{ {_MONEY} }} }}
  variant {{ id }}
"""

_ADDRESS = (
    "name firstName lastName company address1 address2 city province provinceCode zip "
    "countryCodeV2 phone"
)

ORDER_FIELDS = f"""
  id legacyResourceId name email createdAt updatedAt cancelledAt
  currencyCode presentmentCurrencyCode taxesIncluded test note tags
  customAttributes {{ key value }}
  displayFinancialStatus displayFulfillmentStatus
  totalPriceSet {{ {_MONEY} }}
  totalTaxSet {{ {_MONEY} }}
  totalDiscountsSet {{ {_MONEY} }}
  customer {{ id email firstName lastName defaultAddress {{ {_ADDRESS} }} }}
  billingAddress {{ {_ADDRESS} }}
  shippingAddress {{ {_ADDRESS} }}
  shippingLines(first: 5) {{ nodes {{ title code originalPriceSet {{ {_MONEY} }}
    taxLines {{ priceSet {{ {_MONEY} }} }} }} }}
  lineItems(first: {LINES_PAGE}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_LINE} }} }}
"""

ORDERS_UPDATED = f"""
query OrdersUpdated($first: Int!, $after: String, $query: String!) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {ORDER_FIELDS} }}
  }}
}}
"""

ORDER_LINES = f"""
query OrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: {MORE_LINES_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }} nodes {{ {_LINE} }}
    }}
  }}
}}
"""

FULFILLMENTS_SEEN = 10
"""The order's latest fulfilments read with its fulfilment orders: one made before a crash (made
in the shop, not yet recorded by the hub) is found among them."""

FULFILLMENT_ORDERS = f"""
query FulfillmentOrders($id: ID!) {{
  order(id: $id) {{
    fulfillments(first: {FULFILLMENTS_SEEN}) {{
      id trackingInfo(first: 1) {{ number }}
      fulfillmentLineItems(first: 25) {{ nodes {{ quantity lineItem {{ sku }} }} }}
    }}
    fulfillmentOrders(first: 5) {{
      nodes {{
        id status
        assignedLocation {{ location {{ id }} }}
        lineItems(first: 25) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ id totalQuantity remainingQuantity sku }}
        }}
      }}
    }}
  }}
}}
"""
"""An order's open fulfilment orders with their first 25 lines, and its latest fulfilments."""

FULFILLMENT_ORDER_LINES = """
query FulfillmentOrderLines($id: ID!, $after: String) {
  node(id: $id) {
    ... on FulfillmentOrder {
      lineItems(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id totalQuantity remainingQuantity sku }
      }
    }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}
"""

LOCATIONS = """
query Locations { locations(first: 50) { nodes { id name isActive } } }
"""

INVENTORY_ITEMS = f"""
query InventoryItems($query: String!, $first: Int!) {{
  inventoryItems(first: $first, query: $query) {{
    nodes {{
      id sku
      inventoryLevels(first: {LEVELS}) {{
        nodes {{ location {{ id }} quantities(names: ["available"]) {{ name quantity }} }}
      }}
    }}
  }}
}}
"""

INVENTORY_SET = """
mutation InventorySet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""

REFUND_LINES_PAGE = 100

ORDER_FOR_REFUND = f"""
query OrderForRefund($id: ID!, $after: String) {{
  order(id: $id) {{
    id cancelledAt currencyCode presentmentCurrencyCode
    refunds(first: 50) {{ id note }}
    transactions(first: 50) {{
      id kind status gateway
      amountSet {{ presentmentMoney {{ amount currencyCode }} }}
      parentTransaction {{ id }}
    }}
    fulfillmentOrders(first: 5) {{
      nodes {{
        assignedLocation {{ location {{ id }} }}
        lineItems(first: 50) {{ nodes {{ lineItem {{ id }} }} }}
      }}
    }}
    lineItems(first: {REFUND_LINES_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id sku refundableQuantity }}
    }}
  }}
}}
"""
"""What a refund needs of an order: its refunds (one made before a crash is found by its note),
payment transactions (the parents a refund is paid against), where each line was fulfilled from
(where it is restocked) and the lines still refundable."""

REFUND_CREATE = """
mutation RefundCreate($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id note totalRefundedSet { presentmentMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""

ORDER_CANCEL_STATE = """
query OrderCancelState($id: ID!) { order(id: $id) { id cancelledAt } }
"""

ORDER_CANCEL = """
mutation OrderCancel(
  $orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!,
  $notifyCustomer: Boolean, $staffNote: String
) {
  orderCancel(
    orderId: $orderId, reason: $reason, refund: $refund, restock: $restock,
    notifyCustomer: $notifyCustomer, staffNote: $staffNote
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""
