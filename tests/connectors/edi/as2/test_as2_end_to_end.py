"""AS2 end to end between the hub and a local partner whose S/MIME is the ``openssl`` CLI: the
partner's 850, signed and encrypted by openssl, posted to the hub → a signed MDN that openssl
verifies, with the MIC the partner computed → the file received, parsed, processed into an order
→ the hub's 997 posted back over AS2, decrypted and verified by openssl, acknowledged by the
partner's openssl-signed MDN which the hub verifies. A message sent again is recognised by its
Message-ID; a forged one is refused and nothing is stored."""

from __future__ import annotations

import httpx
from sqlalchemy import Connection, func, select

from crossdock.connectors.edi.x12 import load
from crossdock.flows.edi import store
from crossdock.flows.edi.as2_tables import edi_as2_received
from crossdock.flows.edi.tables import edi_files
from crossdock.flows.tables import orders
from tests.connectors.edi.as2.conftest import As2Hub, Keys
from tests.connectors.edi.as2.support import PARTNER_ID, As2Post, partner_message, read_mdn
from tests.flows.edi.support import interchange


def _counts(hub: As2Hub) -> tuple[int, int]:
    def read(conn: Connection) -> tuple[int, int]:
        files = conn.execute(select(func.count()).select_from(edi_files)).scalar_one()
        messages = conn.execute(select(func.count()).select_from(edi_as2_received)).scalar_one()
        return files, messages

    result: tuple[int, int] = hub.api.hub.engine.db.read_sync(read)
    return result


async def _post(hub: As2Hub, message: As2Post) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(hub.url, content=message.body, headers=message.headers)


async def test_850_in_and_997_back_over_as2_with_mdns_both_ways(hub: As2Hub, keys: Keys) -> None:
    po = interchange(4101, po="PO-AS2-1")
    message = partner_message(po, keys.partner, keys.hub, message_id="<po-4101@acme.example>")

    answer = await _post(hub, message)

    assert answer.status_code == 200, answer.text
    assert answer.headers["AS2-To"].strip('"') == PARTNER_ID
    fields = read_mdn(answer.headers["Content-Type"], answer.content, keys.hub)  # openssl verifies
    assert fields["Disposition"].endswith("; processed")
    assert fields["Original-Message-ID"] == message.message_id
    assert fields["Received-Content-MIC"] == message.mic
    [received] = hub.api.hub.engine.db.read_sync(lambda c: store.list_files(c, direction="in"))
    assert received.state == "received" and received.name == "po.x12"
    assert hub.api.hub.engine.db.read_sync(lambda c: store.read_bytes(c, received.id)) == po
    assert received.detail["as2"]["message_id"] == message.message_id

    await hub.service.run_once()  # parsed and answered (997 sent over AS2), then processed
    await hub.service.run_once()

    [processed] = hub.api.hub.engine.db.read_sync(lambda c: store.list_files(c, direction="in"))
    assert processed.state == "processed", processed.reason
    [order] = hub.api.hub.engine.db.read_sync(lambda c: c.execute(select(orders)).all())
    assert (order.channel, order.external_ref) == ("edi-acme", "PO-AS2-1")
    # The partner decrypted and verified the 997 with openssl, and answered a signed MDN.
    [ack] = hub.partner.received
    [document] = load(ack)
    [group] = document.groups
    [set_997] = group.sets
    assert set_997.find("AK1").get(2) == "4101"  # type: ignore[union-attr]
    assert set_997.find("AK9").get(1) == "A"  # type: ignore[union-attr]
    [sent] = hub.api.hub.engine.db.read_sync(lambda c: store.list_files(c, direction="out"))
    assert sent.state == "sent", sent.reason
    assert sent.detail["mdn"] == "processed" and sent.detail["mdn_signed"] is True
    [request] = hub.partner.requests
    assert sent.detail["as2_message_id"] == request["message-id"]
    assert request["as2-from"] == "CROSSDOCK" and request["as2-to"] == f'"{PARTNER_ID}"'
    assert request["content-type"].startswith("application/pkcs7-mime")


async def test_a_message_sent_again_is_recognised_by_its_message_id(
    hub: As2Hub, keys: Keys
) -> None:
    message = partner_message(
        interchange(4102), keys.partner, keys.hub, message_id="<po-4102@acme.example>"
    )
    first = await _post(hub, message)
    fields = read_mdn(first.headers["Content-Type"], first.content, keys.hub)
    assert fields["Disposition"].endswith("; processed")
    assert _counts(hub) == (1, 1)

    again = await _post(hub, message)

    fields = read_mdn(again.headers["Content-Type"], again.content, keys.hub)
    assert fields["Disposition"].endswith("processed/warning: duplicate-document")
    assert fields["Received-Content-MIC"] == message.mic
    assert _counts(hub) == (1, 1)


async def test_a_forged_signature_is_refused_and_nothing_is_stored(hub: As2Hub, keys: Keys) -> None:
    # Signed with another key under the partner's name, encrypted to the hub like a real one.
    forged = partner_message(
        interchange(4103), keys.forger, keys.hub, message_id="<po-4103@acme.example>"
    )

    answer = await _post(hub, forged)

    assert answer.status_code == 200
    fields = read_mdn(answer.headers["Content-Type"], answer.content, keys.hub)
    assert fields["Disposition"].endswith("processed/error: authentication-failed")
    assert fields["Received-Content-MIC"] is None
    assert _counts(hub) == (0, 0)
    # The genuine message with the same Message-ID is still taken afterwards.
    genuine = partner_message(
        interchange(4103), keys.partner, keys.hub, message_id="<po-4103@acme.example>"
    )
    answer = await _post(hub, genuine)
    fields = read_mdn(answer.headers["Content-Type"], answer.content, keys.hub)
    assert fields["Disposition"].endswith("; processed")
    assert _counts(hub) == (1, 1)
