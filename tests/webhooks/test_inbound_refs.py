"""An event about an order that comes in through an inbound webhook is stored naming the order by
the channel's own number too (`channel`, `external_ref`), as the hub's own order events do, so
the subscribers it fans out to know which order it is."""

from __future__ import annotations

import json
import time

from sqlalchemy import Connection

from crossdock.flows.orders import insert_accepted
from tests.flows.harness import make_order
from tests.webhooks.conftest import WebhookHub
from tests.webhooks.test_inbound import standard_headers


async def test_an_inbound_order_event_is_stored_with_the_orders_refs(hooks: WebhookHub) -> None:
    order = make_order("WS-1001", "c-1", [("A", "1")], channel="webshop")

    def accept(conn: Connection) -> None:
        insert_accepted(conn, order_id="IN-9", order=order, now=time.time(), event_id=None)

    await hooks.hub.engine.writer.submit(accept)
    for msg_id, subject in (("msg_known", "order:IN-9"), ("msg_unknown", "order:IN-404")):
        body = json.dumps(
            {
                "type": "order.cancel_requested",
                "subject": subject,
                "data": {"order_id": subject.removeprefix("order:"), "reason": "gone"},
            }
        ).encode()
        response = await hooks.client.post(
            "/v1/webhooks/in/partner", content=body, headers=standard_headers(body, msg_id)
        )
        assert response.status_code == 200, response.text
    known, unknown = await hooks.hub.engine.events_after(0, 10, types=["order.cancel_requested"])
    assert known.data == {
        "order_id": "IN-9",
        "reason": "gone",
        "channel": "webshop",
        "external_ref": "WS-1001",
    }
    assert unknown.data == {"order_id": "IN-404", "reason": "gone"}  # no such order: as sent
