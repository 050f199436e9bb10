# ruff: noqa: E501  (the schema is written as Shopify documents it, one type a line)
"""The subset of Shopify's Admin GraphQL API (2025-01) the connector uses, in Shopify's names."""

SDL = """
scalar DateTime
scalar Decimal
scalar URL
scalar Money

type Query {
  orders(first: Int, after: String, query: String, sortKey: OrderSortKeys, reverse: Boolean): OrderConnection!
  order(id: ID!): Order
  node(id: ID!): Node
  locations(first: Int, after: String): LocationConnection!
  inventoryItems(first: Int, after: String, query: String): InventoryItemConnection!
}

type Mutation {
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  refundCreate(input: RefundInput!): RefundCreatePayload
  orderCancel(orderId: ID!, reason: OrderCancelReason!, refund: Boolean!, restock: Boolean!, notifyCustomer: Boolean, staffNote: String): OrderCancelPayload
}

enum OrderSortKeys { CREATED_AT ID PROCESSED_AT UPDATED_AT }

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }

type MoneyV2 { amount: Decimal! currencyCode: String! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type Attribute { key: String! value: String }

type MailingAddress {
  name: String firstName: String lastName: String company: String address1: String
  address2: String city: String province: String provinceCode: String zip: String
  countryCodeV2: String phone: String
}

type Customer { id: ID! email: String firstName: String lastName: String defaultAddress: MailingAddress }

type ProductVariant { id: ID! sku: String }
type TaxLine { title: String priceSet: MoneyBag! rate: Float }
type DiscountAllocation { allocatedAmountSet: MoneyBag! }

type LineItem {
  id: ID! sku: String name: String! title: String! quantity: Int!
  originalUnitPriceSet: MoneyBag! totalDiscountSet: MoneyBag!
  discountAllocations: [DiscountAllocation!]! taxLines: [TaxLine!]! variant: ProductVariant
  refundableQuantity: Int!
}
type LineItemConnection { nodes: [LineItem!]! pageInfo: PageInfo! }

type ShippingLine { title: String! code: String originalPriceSet: MoneyBag! taxLines: [TaxLine!]! }
type ShippingLineConnection { nodes: [ShippingLine!]! pageInfo: PageInfo! }

type Order {
  id: ID! legacyResourceId: String! name: String! email: String
  createdAt: DateTime! updatedAt: DateTime! cancelledAt: DateTime
  currencyCode: String! presentmentCurrencyCode: String! taxesIncluded: Boolean! test: Boolean!
  note: String tags: [String!]! customAttributes: [Attribute!]!
  displayFinancialStatus: String displayFulfillmentStatus: String!
  totalPriceSet: MoneyBag! totalTaxSet: MoneyBag totalDiscountsSet: MoneyBag
  customer: Customer billingAddress: MailingAddress shippingAddress: MailingAddress
  lineItems(first: Int, after: String): LineItemConnection!
  shippingLines(first: Int, after: String): ShippingLineConnection!
  fulfillmentOrders(first: Int, after: String): FulfillmentOrderConnection!
  refunds(first: Int): [Refund!]!
  transactions(first: Int): [OrderTransaction!]!
  fulfillments(first: Int): [Fulfillment!]!
}
type OrderConnection { nodes: [Order!]! pageInfo: PageInfo! }

type Location { id: ID! name: String! isActive: Boolean! }
type LocationConnection { nodes: [Location!]! pageInfo: PageInfo! }
type FulfillmentOrderLocation { location: Location }

type FulfillmentOrderLineItem { id: ID! sku: String totalQuantity: Int! remainingQuantity: Int! lineItem: LineItem! }
type FulfillmentOrderLineItemConnection { nodes: [FulfillmentOrderLineItem!]! pageInfo: PageInfo! }
interface Node { id: ID! }

type FulfillmentOrder implements Node {
  id: ID! status: String! assignedLocation: FulfillmentOrderLocation!
  lineItems(first: Int, after: String): FulfillmentOrderLineItemConnection!
}
type FulfillmentOrderConnection { nodes: [FulfillmentOrder!]! pageInfo: PageInfo! }

type TrackingInfo { company: String number: String url: URL }
type FulfillmentLineItem { id: ID! quantity: Int lineItem: LineItem! }
type FulfillmentLineItemConnection { nodes: [FulfillmentLineItem!]! pageInfo: PageInfo! }
type Fulfillment {
  id: ID! status: String! createdAt: DateTime! trackingInfo(first: Int): [TrackingInfo!]!
  fulfillmentLineItems(first: Int, after: String): FulfillmentLineItemConnection!
}
type UserError { field: [String!] message: String! }
type FulfillmentCreatePayload { fulfillment: Fulfillment userErrors: [UserError!]! }

input FulfillmentTrackingInput { company: String number: String url: URL }
input FulfillmentOrderLineItemInput { id: ID! quantity: Int! }
input FulfillmentOrderLineItemsInput {
  fulfillmentOrderId: ID! fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}
input FulfillmentInput {
  lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!
  trackingInfo: FulfillmentTrackingInput notifyCustomer: Boolean
}

type InventoryQuantity { name: String! quantity: Int! }
type InventoryLevel { location: Location! quantities(names: [String!]!): [InventoryQuantity!]! }
type InventoryLevelConnection { nodes: [InventoryLevel!]! pageInfo: PageInfo! }
type InventoryItem { id: ID! sku: String inventoryLevels(first: Int, after: String): InventoryLevelConnection! }
type InventoryItemConnection { nodes: [InventoryItem!]! pageInfo: PageInfo! }

input InventoryQuantityInput {
  inventoryItemId: ID! locationId: ID! quantity: Int! compareQuantity: Int
}
input InventorySetQuantitiesInput {
  name: String! reason: String! referenceDocumentUri: URL ignoreCompareQuantity: Boolean
  quantities: [InventoryQuantityInput!]!
}
type InventoryAdjustmentGroup { id: ID! }
type InventorySetQuantitiesUserError { field: [String!] message: String! code: String }
type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}

enum OrderTransactionKind { AUTHORIZATION CAPTURE CHANGE EMV_AUTHORIZATION REFUND SALE SUGGESTED_REFUND VOID }
enum OrderTransactionStatus { AWAITING_RESPONSE ERROR FAILURE PENDING SUCCESS UNKNOWN }
type OrderTransaction {
  id: ID! kind: OrderTransactionKind! status: OrderTransactionStatus! gateway: String
  amountSet: MoneyBag! createdAt: DateTime! parentTransaction: OrderTransaction
}
type OrderTransactionConnection { nodes: [OrderTransaction!]! pageInfo: PageInfo! }

enum RefundLineItemRestockType { CANCEL LEGACY_RESTOCK NO_RESTOCK RETURN }
type RefundLineItem {
  lineItem: LineItem! quantity: Int! restockType: RefundLineItemRestockType! restocked: Boolean!
  location: Location
}
type RefundLineItemConnection { nodes: [RefundLineItem!]! pageInfo: PageInfo! }
type Refund {
  id: ID! note: String createdAt: DateTime totalRefundedSet: MoneyBag!
  refundLineItems(first: Int, after: String): RefundLineItemConnection!
  transactions(first: Int, after: String): OrderTransactionConnection!
}
input RefundLineItemInput { lineItemId: ID! quantity: Int! restockType: RefundLineItemRestockType locationId: ID }
input OrderTransactionInput { amount: Money! gateway: String! kind: OrderTransactionKind! orderId: ID! parentId: ID }
input ShippingRefundInput { amount: Money fullRefund: Boolean }
input RefundInput {
  orderId: ID! note: String notify: Boolean currency: String
  refundLineItems: [RefundLineItemInput!] shipping: ShippingRefundInput
  transactions: [OrderTransactionInput!]
}
type RefundCreatePayload { order: Order refund: Refund userErrors: [UserError!]! }

enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
type Job { id: ID! done: Boolean! }
type OrderCancelUserError { field: [String!] message: String! code: String }
type OrderCancelPayload { job: Job orderCancelUserErrors: [OrderCancelUserError!]! userErrors: [UserError!]! }
"""
