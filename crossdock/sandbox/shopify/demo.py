"""The demo's Shopify shop: a simulated shop beside the generic one, whose customers place
orders of the demo's products; each is signed and sent as Shopify sends its ``orders/create``
webhook, one is re-delivered (Shopify may) and one is missed (the hub's pull finds it), and one
has a line without a SKU (an exception naming it)."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from typing import Any

from crossdock.sandbox.shopify.app import ShopSandboxSettings
from crossdock.sandbox.shopify.server import ShopifySandboxServer

__all__ = ["DEMO_SHOP", "DemoShop", "shop_orders"]

TOKEN_ENV = "CROSSDOCK_DEMO_SHOPIFY_TOKEN"
SECRET_ENV = "CROSSDOCK_DEMO_SHOPIFY_SECRET"
DEMO_SHOP = ShopSandboxSettings(
    token="shpat_demo_token",
    webhook_secret="shpss_demo_secret",
    domain="crossdock-demo.myshopify.com",
    currency="USD",
    locations={"gid://shopify/Location/1": "Demo warehouse"},
)

_ADDRESS = {
    "first_name": "Bob",
    "last_name": "Norman",
    "address1": "Chestnut Street 92",
    "city": "Louisville",
    "province_code": "KY",
    "zip": "40202",
    "country_code": "US",
}


def shop_orders(skus: list[str], count: int) -> list[dict[str, Any]]:
    """Orders in Shopify's webhook shape (after its published example), for the demo's SKUs."""
    orders = []
    for n in range(count):
        customer = 207119551 + n % 5  # five returning customers: one partner each
        orders.append(
            {
                "id": 450789469 + n,
                "name": f"#{1001 + n}",
                "email": f"customer{customer}@example.com",
                "currency": "USD",
                "presentment_currency": "USD",
                "financial_status": "paid",
                "taxes_included": False,
                "test": False,
                "tags": "demo, web",
                "total_discounts": "0.00",
                "line_items": [
                    {
                        "id": 466157049 + n * 10 + i,
                        "sku": skus[(n + i) % len(skus)],
                        "name": f"Demo product {skus[(n + i) % len(skus)]}",
                        "price": "25.00",
                        "quantity": 1 + i,
                        "variant_id": 39072856 + i,
                        "requires_shipping": True,
                    }
                    for i in range(2)
                ],
                "shipping_lines": [{"code": "Standard", "price": "4.90", "title": "Standard"}],
                "customer": {
                    "id": customer,
                    "email": f"customer{customer}@example.com",
                    "first_name": "Demo",
                    "last_name": f"Customer {customer}",
                },
                "shipping_address": _ADDRESS,
                "billing_address": _ADDRESS,
            }
        )
    return orders


@dataclass
class DemoShop:
    server: ShopifySandboxServer
    sent: int = 0
    missed: int = 0
    redelivered: int = 0
    malformed: int = 0

    @property
    def url(self) -> str:
        return self.server.url

    async def run(self, hub_url: str, skus: list[str], count: int) -> None:
        """Place ``count`` orders in the shop and send their webhooks to the hub."""
        sender = self.server.sandbox.webhooks
        sender.address = f"{hub_url}/v1/channels/shopify/shopify/webhooks"
        for n, order in enumerate(shop_orders(skus, count)):
            if n == count - 1:
                order = copy.deepcopy(order)
                order["line_items"][0]["sku"] = None  # a variant without a SKU
                self.malformed += 1
            placed = self.server.shop.place(order)
            if n == 3:
                self.missed += 1  # no webhook: the scheduled pull finds it
                continue
            delivery = await asyncio.to_thread(sender.send, "orders/create", placed)
            self.sent += 1
            if n == 1:
                await asyncio.to_thread(sender.deliver, delivery)  # the same webhook again
                self.redelivered += 1

    def fulfilled(self) -> int:
        return len(self.server.shop.fulfilments)

    def stop(self) -> None:
        self.server.stop()


def start_demo_shop(port: int = 0) -> DemoShop:
    return DemoShop(ShopifySandboxServer(DEMO_SHOP, port=port).start())
