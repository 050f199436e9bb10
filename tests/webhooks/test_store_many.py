"""Storing a group commit's webhooks at once: each new message once (event and body), a message
id seen before or repeated within the group answered as the duplicate of the first."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from crossdock.engine import Database, NewEvent, Prepared, prepare
from crossdock.migrations import upgrade
from crossdock.webhooks import inbound
from crossdock.webhooks.tables import webhook_inbound


def _item(message_id: str, n: int) -> tuple[str, inbound.Verified, bytes, Prepared]:
    [prepared] = prepare(
        [NewEvent("shopify.order_received", "shopify:shop", f"s:{n}", {"n": n}, message_id)], 4
    )
    verified = inbound.Verified(message_id, {"X-Shopify-Webhook-Id": message_id})
    return ("shopify:shop", verified, b'{"n": %d}' % n, prepared)


def test_new_seen_and_repeated_messages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    db = Database(url)
    try:
        [first] = db.write_sync(lambda c: inbound.store_prepared_many(c, [_item("a", 1)]))
        stored = db.write_sync(
            lambda c: inbound.store_prepared_many(
                c,
                [_item("b", 2), _item("a", 3), _item("b", 4), _item("c", 5)],
            )
        )
        rows = db.read_sync(
            lambda c: c.execute(select(func.count()).select_from(webhook_inbound)).scalar_one()
        )
    finally:
        db.close()
    assert not first.duplicate
    assert [s.duplicate for s in stored] == [False, True, True, False]
    assert stored[1].event_id == first.event_id and stored[2].event_id == stored[0].event_id
    assert rows == 3
