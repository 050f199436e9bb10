"""Inbound webhooks: verify (per source, from configuration), map to an event, store once.

Verification comes first and stores nothing when it fails: Standard Webhooks (`webhook-id`,
`webhook-timestamp`, `webhook-signature`) or an HMAC-SHA256 of the raw body in one header, hex or
base64 (Shopify's `X-Shopify-Hmac-Sha256`). The sender's timestamp must be within the source's
tolerance (replay protection). The sender's message id deduplicates: it is the idempotency key of
the appended event (source `webhook:<name>`), and the raw body is kept in `webhook_inbound` for
audit, in the same transaction.

Mapping `envelope` (generic, for canonical-shaped payloads): the body is `{"type", "subject",
"data"}`; the type must be one the source may send, and `data` must match the type's catalog
schema when the catalog lists the type. Shop-specific mappings come with their connectors.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import jsonschema
from sqlalchemy import Connection, insert, select

from crossdock.catalog.registry import CATALOG
from crossdock.config.webhooks import WebhookSource
from crossdock.engine import EnvelopeError, NewEvent, Prepared, insert_events, insert_prepared
from crossdock.errors import CrossdockError
from crossdock.flows.orders import with_order_refs
from crossdock.webhooks.fanout import matches
from crossdock.webhooks.signing import SignatureError, secret_key, verify_hmac, verify_standard
from crossdock.webhooks.tables import webhook_inbound


class InboundInvalid(CrossdockError, ValueError):
    """A verified request whose content is unusable (422), naming the JSON pointer and rule."""

    def __init__(self, pointer: str, rule: str, detail: str) -> None:
        super().__init__(f"{pointer}: {detail}")
        self.pointer = pointer
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Verified:
    message_id: str
    headers: dict[str, str]


def _timestamp(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise SignatureError("the timestamp header is not a time") from None


def _check_time(sent: float, tolerance_s: float, now: float) -> None:
    if abs(now - sent) > tolerance_s:
        raise SignatureError(
            f"the timestamp is {now - sent:+.0f} s from ours (tolerance {tolerance_s:g} s)"
        )


def verify(source: WebhookSource, headers: Mapping[str, str], body: bytes, now: float) -> Verified:
    """Check signature and timestamp; `SignatureError` (→ 401) when anything is off."""
    lower = {k.lower(): v for k, v in headers.items()}
    secret = source.secret.resolve()
    if source.verification == "standard":
        msg_id = lower.get("webhook-id", "")
        stamp = lower.get("webhook-timestamp", "")
        signature = lower.get("webhook-signature", "")
        if not (msg_id and stamp and signature):
            raise SignatureError("webhook-id, webhook-timestamp and webhook-signature are required")
        try:
            sent = int(stamp)
        except ValueError:
            raise SignatureError("webhook-timestamp is not epoch seconds") from None
        _check_time(sent, source.tolerance_s, now)
        verify_standard(secret_key(secret), msg_id, sent, body, signature)
        kept = {"webhook-id": msg_id, "webhook-timestamp": stamp}
        return Verified(msg_id, kept)
    signature = lower.get(source.signature_header.lower(), "")
    if not signature:
        raise SignatureError(f"the {source.signature_header} header is required")
    verify_hmac(secret.encode(), body, signature, source.encoding)
    kept = {}
    if source.timestamp_header:
        stamp = lower.get(source.timestamp_header.lower(), "")
        if not stamp:
            raise SignatureError(f"the {source.timestamp_header} header is required")
        _check_time(_timestamp(stamp), source.tolerance_s, now)
        kept[source.timestamp_header] = stamp
    assert source.id_header is not None
    msg_id = lower.get(source.id_header.lower(), "")
    if not msg_id or len(msg_id) > 255:
        raise InboundInvalid(f"header:{source.id_header}", "required", "the message id is missing")
    kept[source.id_header] = msg_id
    return Verified(msg_id, kept)


def map_envelope(name: str, source: WebhookSource, body: bytes) -> NewEvent:
    """The generic mapping: a canonical-shaped event `{type, subject, data}`."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InboundInvalid("/", "json", "the body is not JSON") from None
    except RecursionError:  # the API refuses such a body first (api.limits.json_depth)
        raise InboundInvalid("/", "max_depth", "the body nests too deep to parse") from None
    if not isinstance(payload, dict):
        raise InboundInvalid("/", "object", "the body must be an object {type, subject, data}")
    kind, subject, data = payload.get("type"), payload.get("subject"), payload.get("data")
    if not isinstance(kind, str) or not matches(source.event_types, kind):
        raise InboundInvalid(
            "/type", "allowed_type", f"must be one of {', '.join(source.event_types)}"
        )
    if not isinstance(subject, str):
        raise InboundInvalid("/subject", "string", "required: the business key, e.g. order:…")
    if not isinstance(data, dict):
        raise InboundInvalid("/data", "object", "required: an object")
    known = CATALOG.get(kind)
    if known is not None:
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(known.schema).iter_errors(data)
        )
        if error is not None:
            pointer = "/data" + "".join(f"/{p}" for p in error.absolute_path)
            if error.validator == "required" and isinstance(error.instance, dict):
                missing = [n for n in error.validator_value if n not in error.instance]
                pointer += f"/{missing[0]}" if missing else ""
            raise InboundInvalid(pointer, str(error.validator), error.message)
    event = NewEvent(kind, f"webhook:{name}", subject, data)
    try:
        event.validate()
    except EnvelopeError as exc:
        field = str(exc).split(":", 1)[0]
        raise InboundInvalid(f"/{field}", "envelope", str(exc)) from None
    return event


@dataclass(frozen=True, slots=True)
class Stored:
    event_id: str
    duplicate: bool


def store(
    conn: Connection,
    name: str,
    verified: Verified,
    body: bytes,
    event: NewEvent,
    partitions: int,
    now: float | None = None,
) -> Stored:
    """Append the event (idempotency key: the sender's id) and keep the raw body, once."""
    seen = _seen(conn, name, verified)
    if seen is not None:
        return seen
    data = with_order_refs(conn, event.subject, event.data)  # named as every order event is
    keyed = NewEvent(
        event.type, event.source, event.subject, data, idempotency_key=verified.message_id
    )
    [appended] = insert_events(conn, [keyed], partitions)
    _keep(conn, name, verified, body, appended.event.id, now)
    return Stored(appended.event.id, duplicate=not appended.new)


def store_prepared(
    conn: Connection,
    name: str,
    verified: Verified,
    body: bytes,
    prepared: Prepared,
    now: float | None = None,
) -> Stored:
    """`store` for an event encoded before the write (`prepare`, keyed by the sender's id), so
    that the writer only inserts; for a source whose subjects are not orders'."""
    seen = _seen(conn, name, verified)
    if seen is not None:
        return seen
    [appended] = insert_prepared(conn, [prepared])
    _keep(conn, name, verified, body, appended.event.id, now)
    return Stored(appended.event.id, duplicate=not appended.new)


def store_prepared_many(
    conn: Connection,
    items: Sequence[tuple[str, Verified, bytes, Prepared]],
    now: float | None = None,
) -> list[Stored]:
    """`store_prepared` for the requests of one group commit, in order, in three statements
    whatever their number: the ids seen before, the new events, their bodies. A message id
    repeated within the items is the duplicate of its first."""
    if not items:
        return []
    c = webhook_inbound.c
    names = sorted({name for name, _, _, _ in items})
    ids = sorted({verified.message_id for _, verified, _, _ in items})
    seen = {
        (str(row.source), str(row.message_id)): str(row.event_id)
        for row in conn.execute(
            select(c.source, c.message_id, c.event_id).where(
                c.source.in_(names), c.message_id.in_(ids)
            )
        )
    }
    fresh = [i for i, (name, v, _, _) in enumerate(items) if (name, v.message_id) not in seen]
    appended = insert_prepared(conn, [items[i][3] for i in fresh])
    out = [Stored(seen.get((name, v.message_id), ""), True) for name, v, _, _ in items]
    at = time.time() if now is None else now
    kept = []
    for i, done in zip(fresh, appended, strict=True):
        out[i] = Stored(done.event.id, duplicate=not done.new)
        if done.new:
            name, verified, body, _ = items[i]
            kept.append(
                {
                    "source": name,
                    "message_id": verified.message_id,
                    "received_at": at,
                    "headers": json.dumps(verified.headers),
                    "body": body.decode("utf-8", "replace"),
                    "event_id": done.event.id,
                }
            )
    if kept:
        conn.execute(insert(webhook_inbound), kept)
    return out


def _seen(conn: Connection, name: str, verified: Verified) -> Stored | None:
    seen = conn.execute(
        select(webhook_inbound.c.event_id).where(
            webhook_inbound.c.source == name, webhook_inbound.c.message_id == verified.message_id
        )
    ).first()
    return None if seen is None else Stored(str(seen.event_id), duplicate=True)


def _keep(
    conn: Connection, name: str, verified: Verified, body: bytes, event_id: str, now: float | None
) -> None:
    conn.execute(
        insert(webhook_inbound).values(
            source=name,
            message_id=verified.message_id,
            received_at=time.time() if now is None else now,
            headers=json.dumps(verified.headers),
            body=body.decode("utf-8", "replace"),
            event_id=event_id,
        )
    )
