"""Routes for webhooks: subscriptions (scope `webhooks:admin`) with their messages, attempts and
replay, and inbound webhooks `POST /v1/webhooks/in/{source}` (authenticated by signature)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field, StrictBool, WithJsonSchema, field_validator

from crossdock.api.auth import Principal, require
from crossdock.api.bodies import body_example
from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.catalog.registry import CATALOG
from crossdock.engine import TYPE_PATTERN, Engine, format_time
from crossdock.webhooks import inbound, store
from crossdock.webhooks.claims import message_for_test
from crossdock.webhooks.destinations import DestinationRefused
from crossdock.webhooks.service import WebhookService
from crossdock.webhooks.signing import SignatureError

router = APIRouter(
    prefix="/v1",
    route_class=StrictQueryRoute,
    responses={503: {"description": "Webhooks are not configured on this hub"}},
)
Admin = Annotated[Principal, Depends(require("webhooks:admin"))]
MAX_ID = 2**63 - 1
MessageId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _service(request: Request) -> tuple[Engine, WebhookService]:
    hub = request.app.state.hub
    service: WebhookService | None = hub.webhooks
    if service is None:
        raise Problem(503, "Unavailable", "webhooks are not configured", kind="unavailable")
    engine: Engine = hub.engine
    return engine, service


def _stamp(moment: float | None) -> str | None:
    return None if moment is None else format_time(datetime.fromtimestamp(moment).astimezone())


def _check_types(value: list[str]) -> list[str]:
    for pattern in value:
        if not TYPE_PATTERN.match(pattern):
            raise ValueError(f"{pattern!r}: use a type (order.accepted), a prefix (order.*) or *")
        if "*" not in pattern and pattern not in CATALOG:
            raise ValueError(f"{pattern!r} is not in the event catalog (crossdock catalog)")
    return sorted(set(value))


# -- models ---------------------------------------------------------------------------------------

# A type of the catalog, a prefix (`order.*`) or `*`: what `_check_types` accepts, in the schema.
EventType = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": sorted(CATALOG)},
                {"type": "string", "pattern": r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.\*)$"},
            ]
        }
    ),
]


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=2000, description="http(s) URL receiving the deliveries.")
    event_types: list[EventType] = Field(
        min_length=1, max_length=100, description="Types or prefixes: order.*, invoice.posted."
    )
    description: str = Field(default="", max_length=1000)
    strict_ordering: StrictBool = Field(
        default=False, description="Deliver a subject's events one at a time, in order."
    )
    max_in_flight: int | None = Field(
        default=None, ge=1, le=10_000, description="Concurrency cap (default: configuration)."
    )

    _types = field_validator("event_types")(_check_types)


class SubscriptionPatch(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    strict_ordering: StrictBool | None = None
    max_in_flight: int | None = Field(default=None, ge=1, le=10_000)

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_types(value)


class SubscriptionView(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str
    state: str = Field(description="active, paused or disabled")
    disabled_reason: str | None
    strict_ordering: bool
    max_in_flight: int | None
    failing_since: str | None
    secret_rotated_until: str | None = Field(
        description="Until when the previous secret still signs (after a rotation)."
    )
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, endpoint: store.Endpoint) -> SubscriptionView:
        now = time.time()
        overlap = endpoint.previous_until if len(endpoint.secrets(now)) > 1 else None
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            event_types=endpoint.event_types,
            description=endpoint.description,
            state=endpoint.state,
            disabled_reason=endpoint.disabled_reason,
            strict_ordering=endpoint.strict_order,
            max_in_flight=endpoint.max_in_flight,
            failing_since=_stamp(endpoint.failing_since),
            secret_rotated_until=_stamp(overlap),
            created_at=_stamp(endpoint.created_at) or "",
            updated_at=_stamp(endpoint.updated_at) or "",
        )


class SubscriptionCreated(SubscriptionView):
    secret: str = Field(description="The signing secret (whsec_…): shown only now.")


class SubscriptionList(BaseModel):
    items: list[SubscriptionView]


class Rotation(BaseModel):
    overlap_s: float | None = Field(
        default=None, ge=0, le=30 * 86400, description="Default: webhooks.rotation_overlap_s."
    )


class Rotated(BaseModel):
    id: str
    secret: str = Field(description="The new signing secret (whsec_…): shown only now.")
    previous_valid_until: str | None


class AttemptView(BaseModel):
    message_id: int
    event_id: str
    attempt: int
    at: str
    status: int | None = Field(description="HTTP status; null when no answer came.")
    outcome: str = Field(description="delivered, retry, dead or gone")
    latency_ms: float
    response: str = Field(description="The first bytes of the answer.")
    error: str | None


class AttemptList(BaseModel):
    items: list[AttemptView]


class MessageView(BaseModel):
    id: int
    event_id: str
    event_type: str
    subject: str
    state: str = Field(description="pending, delivered or dead")
    attempts: int
    next_attempt_at: str | None
    last_status: int | None
    last_error: str | None
    created_at: str

    @classmethod
    def of(cls, message: store.Message) -> MessageView:
        return cls(
            id=message.id,
            event_id=message.event_id,
            event_type=message.event_type,
            subject=message.subject,
            state=message.state,
            attempts=message.attempts,
            next_attempt_at=_stamp(message.next_at) if message.state == "pending" else None,
            last_status=message.last_status,
            last_error=message.last_error,
            created_at=_stamp(message.created_at) or "",
        )


class MessageList(BaseModel):
    items: list[MessageView]


class ReplayRequest(BaseModel):
    since: datetime = Field(description="Replay dead messages created since this time.")

    @field_validator("since")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a time zone (e.g. 2026-01-01T00:00:00Z)")
        return value


class Replayed(BaseModel):
    replayed: int


class TestDelivery(BaseModel):
    event_id: str = Field(description="The test event's id (its `webhook-id` header).")
    delivered: bool = Field(description="The endpoint answered 2xx.")
    status: int | None = Field(description="HTTP status; null when no answer came.")
    duration_ms: float
    response: str = Field(description="The first bytes of the answer.")
    error: str | None


class InboundAccepted(BaseModel):
    event_id: str
    duplicate: bool


# -- subscriptions --------------------------------------------------------------------------------


async def _check_url(service: WebhookService, url: str) -> None:
    try:
        await service.policy.check(url)
    except DestinationRefused as exc:
        raise Problem(
            422,
            "Invalid request",
            f"/url: {exc}",
            kind="validation",
            errors=[{"pointer": "/url", "rule": "destination", "detail": str(exc)}],
        ) from None


def _not_found(endpoint_id: str) -> Problem:
    return Problem(404, "Not found", f"no subscription {endpoint_id}", kind="not-found")


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionCreated,
    tags=["webhooks"],
    openapi_extra=body_example(
        {
            "url": "https://erp.example.com/hooks/crossdock",
            "event_types": ["order.*", "invoice.posted"],
            "description": "Orders and invoices for the ERP",
        }
    ),
)
async def create_subscription(
    body: SubscriptionIn, request: Request, _: Admin
) -> SubscriptionCreated:
    """Subscribe a URL to event types; the answer holds the signing secret, shown once."""
    engine, service = _service(request)
    await _check_url(service, body.url)
    endpoint = await engine.writer.submit(
        lambda c: store.create_endpoint(
            c,
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            strict_order=body.strict_ordering,
            max_in_flight=body.max_in_flight,
        )
    )
    view = SubscriptionView.of(endpoint)
    return SubscriptionCreated(**view.model_dump(), secret=endpoint.secret)


@router.get("/subscriptions", response_model=SubscriptionList, tags=["webhooks"])
async def list_subscriptions(
    request: Request,
    _: Admin,
    state: Annotated[str | None, Query(pattern="^(active|paused|disabled)$")] = None,
) -> SubscriptionList:
    engine = _service(request)[0]
    endpoints = await engine.db.read(lambda c: store.list_endpoints(c, state))
    return SubscriptionList(items=[SubscriptionView.of(e) for e in endpoints])


@router.get("/subscriptions/{endpoint_id}", response_model=SubscriptionView, tags=["webhooks"])
async def get_subscription(endpoint_id: str, request: Request, _: Admin) -> SubscriptionView:
    engine = _service(request)[0]
    endpoint = await engine.db.read(lambda c: store.get_endpoint(c, endpoint_id))
    if endpoint is None:
        raise _not_found(endpoint_id)
    return SubscriptionView.of(endpoint)


async def _update(request: Request, endpoint_id: str, **values: Any) -> SubscriptionView:
    engine = _service(request)[0]
    endpoint = await engine.writer.submit(lambda c: store.update_endpoint(c, endpoint_id, **values))
    if endpoint is None:
        raise _not_found(endpoint_id)
    return SubscriptionView.of(endpoint)


@router.patch(
    "/subscriptions/{endpoint_id}",
    response_model=SubscriptionView,
    tags=["webhooks"],
    openapi_extra=body_example({"event_types": ["order.*"], "max_in_flight": 4}),
)
async def update_subscription(
    endpoint_id: str, body: SubscriptionPatch, request: Request, _: Admin
) -> SubscriptionView:
    """Change the URL, event types, description, ordering or concurrency cap."""
    _engine, service = _service(request)
    values = body.model_dump(exclude_unset=True)
    if "strict_ordering" in values:
        values["strict_order"] = values.pop("strict_ordering")
    values = {k: v for k, v in values.items() if v is not None or k == "max_in_flight"}
    if "url" in values:
        await _check_url(service, values["url"])
    return await _update(request, endpoint_id, **values)


@router.post(
    "/subscriptions/{endpoint_id}/pause", response_model=SubscriptionView, tags=["webhooks"]
)
async def pause_subscription(endpoint_id: str, request: Request, _: Admin) -> SubscriptionView:
    """Stop delivering; messages keep queueing until `resume`."""
    return await _update(request, endpoint_id, state="paused")


@router.post(
    "/subscriptions/{endpoint_id}/resume", response_model=SubscriptionView, tags=["webhooks"]
)
async def resume_subscription(endpoint_id: str, request: Request, _: Admin) -> SubscriptionView:
    """Deliver again (also re-enables a disabled endpoint); queued messages go out."""
    service = _service(request)[1]
    view = await _update(request, endpoint_id, state="active")
    service.worker.kick()
    return view


@router.delete("/subscriptions/{endpoint_id}", status_code=204, tags=["webhooks"])
async def delete_subscription(endpoint_id: str, request: Request, _: Admin) -> Response:
    """Delete the subscription with its queued messages and attempt history."""
    engine = _service(request)[0]
    if not await engine.writer.submit(lambda c: store.delete_endpoint(c, endpoint_id)):
        raise _not_found(endpoint_id)
    return Response(status_code=204)


@router.post(
    "/subscriptions/{endpoint_id}/rotate",
    response_model=Rotated,
    tags=["webhooks"],
    openapi_extra=body_example({"overlap_s": 86400}),
)
async def rotate_subscription_secret(
    endpoint_id: str, request: Request, _: Admin, body: Rotation | None = None
) -> Rotated:
    """A new signing secret; deliveries carry both signatures during the overlap window."""
    engine, service = _service(request)
    overlap = (
        body.overlap_s
        if body is not None and body.overlap_s is not None
        else service.settings.rotation_overlap_s
    )
    endpoint = await engine.writer.submit(lambda c: store.rotate_secret(c, endpoint_id, overlap))
    if endpoint is None:
        raise _not_found(endpoint_id)
    return Rotated(
        id=endpoint.id, secret=endpoint.secret, previous_valid_until=_stamp(endpoint.previous_until)
    )


@router.post("/subscriptions/{endpoint_id}/test", response_model=TestDelivery, tags=["webhooks"])
async def send_test_event(endpoint_id: str, request: Request, _: Admin) -> TestDelivery:
    """Send a signed `webhook.test` event to the subscription now, as every delivery is sent
    (whatever its state), and answer what came back; it is not queued, retried or recorded."""
    engine, service = _service(request)
    endpoint = await engine.db.read(lambda c: store.get_endpoint(c, endpoint_id))
    if endpoint is None:
        raise _not_found(endpoint_id)
    claimed = message_for_test(endpoint, time.time())
    result = await service.worker.send_once(claimed)
    return TestDelivery(
        event_id=claimed.msg_id,
        delivered=result.ok,
        status=result.status,
        duration_ms=round(result.latency_ms, 3),
        response=result.response,
        error=result.error,
    )


@router.get("/subscriptions/{endpoint_id}/attempts", response_model=AttemptList, tags=["webhooks"])
async def list_subscription_attempts(
    endpoint_id: str,
    request: Request,
    _: Admin,
    message_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AttemptList:
    """Delivery attempts, newest first: time, status, latency, first bytes of the answer."""
    engine = _service(request)[0]

    def read(conn: Any) -> list[store.Attempt] | None:
        if store.get_endpoint(conn, endpoint_id) is None:
            return None
        return store.list_attempts(conn, endpoint_id, limit=limit, message_id=message_id)

    attempts = await engine.db.read(read)
    if attempts is None:
        raise _not_found(endpoint_id)
    return AttemptList(
        items=[
            AttemptView(
                message_id=a.message_id,
                event_id=a.event_id,
                attempt=a.attempt,
                at=_stamp(a.at) or "",
                status=a.status,
                outcome=a.outcome,
                latency_ms=a.latency_ms,
                response=a.response,
                error=a.error,
            )
            for a in attempts
        ]
    )


@router.get("/subscriptions/{endpoint_id}/messages", response_model=MessageList, tags=["webhooks"])
async def list_subscription_messages(
    endpoint_id: str,
    request: Request,
    _: Admin,
    state: Annotated[str | None, Query(pattern="^(pending|delivered|dead)$")] = None,
    event_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MessageList:
    """Messages of the subscription, newest first (filter by state or event)."""
    engine = _service(request)[0]

    def read(conn: Any) -> list[store.Message] | None:
        if store.get_endpoint(conn, endpoint_id) is None:
            return None
        return store.list_messages(conn, endpoint_id, state=state, limit=limit, event_id=event_id)

    messages = await engine.db.read(read)
    if messages is None:
        raise _not_found(endpoint_id)
    return MessageList(items=[MessageView.of(m) for m in messages])


@router.post(
    "/subscriptions/{endpoint_id}/messages/{message_id}/replay",
    status_code=202,
    response_model=Replayed,
    tags=["webhooks"],
)
async def replay_subscription_message(
    endpoint_id: str, message_id: MessageId, request: Request, _: Admin
) -> Replayed:
    """Send one message again, at once, with a fresh retry schedule."""
    engine, service = _service(request)
    done = await engine.writer.submit(
        lambda c: store.replay_message(c, endpoint_id, message_id, time.time())
    )
    if not done:
        raise Problem(
            404,
            "Not found",
            f"no finished message {message_id} for subscription {endpoint_id}",
            kind="not-found",
        )
    service.worker.kick()
    return Replayed(replayed=1)


@router.post(
    "/subscriptions/{endpoint_id}/replay",
    status_code=202,
    response_model=Replayed,
    tags=["webhooks"],
    openapi_extra=body_example({"since": "2026-01-15T00:00:00Z"}),
)
async def replay_subscription_failures(
    endpoint_id: str, body: ReplayRequest, request: Request, _: Admin
) -> Replayed:
    """Send again every dead-lettered message of the subscription created since a time."""
    engine, service = _service(request)

    def run(conn: Any) -> int | None:
        if store.get_endpoint(conn, endpoint_id) is None:
            return None
        return store.replay_failed(conn, endpoint_id, body.since.timestamp(), time.time())

    count = await engine.writer.submit(run)
    if count is None:
        raise _not_found(endpoint_id)
    service.worker.kick()
    return Replayed(replayed=count)


# -- inbound --------------------------------------------------------------------------------------


@router.post(
    "/webhooks/in/{source}",
    response_model=InboundAccepted,
    tags=["webhooks"],
    responses={401: {"description": "Signature or timestamp does not verify; nothing stored"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The sender's payload, signed (Standard Webhooks headers).",
            "content": {
                "application/json": {
                    "schema": {},
                    "example": {"type": "order.created", "data": {"id": "WS-1001"}},
                }
            },
        }
    },
)
async def receive_webhook(source: str, request: Request) -> InboundAccepted:
    """A webhook from a configured source: verified, deduplicated by the sender's message id,
    kept raw for audit, mapped to an event. Authenticated by its signature, not a token."""
    engine, service = _service(request)
    config = service.settings.sources.get(source)
    if config is None:
        raise Problem(404, "Not found", f"no inbound source {source!r}", kind="not-found")
    body = await request.body()
    try:
        verified = inbound.verify(config, request.headers, body, time.time())
        event = inbound.map_envelope(source, config, body)
    except SignatureError as exc:
        raise Problem(
            401, "Unauthorized", f"webhook not verified: {exc}", kind="signature"
        ) from None
    except inbound.InboundInvalid as exc:
        raise Problem(
            422,
            "Invalid request",
            str(exc),
            kind="validation",
            errors=[{"pointer": exc.pointer, "rule": exc.rule, "detail": exc.detail}],
        ) from None
    stored = await engine.writer.submit(
        lambda c: inbound.store(c, source, verified, body, event, engine.partitions),
        appends=True,
    )
    return InboundAccepted(event_id=stored.event_id, duplicate=stored.duplicate)
