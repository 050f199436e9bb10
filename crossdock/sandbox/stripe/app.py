"""The Stripe sandbox's HTTP face: the part of Stripe's REST API a merchant's checkout and the
hub's tests use, spoken as Stripe speaks it.

* Requests are form-encoded with Stripe's bracket notation (``metadata[invoice]=…``,
  ``expand[]=…``, ``created[gt]=…``); GET parameters likewise in the query string.
* Authentication: ``Authorization: Bearer sk_test_…`` (or HTTP Basic with the key as user);
  anything else is 401 ``invalid_request_error``.
* ``Idempotency-Key`` on a POST: the same key and parameters answer the stored response again;
  the same key with other parameters is 400 ``idempotency_error``.
* Errors are ``{"error": {"type", "message", "param"?, "code"?}}`` (402 ``card_error`` for a
  decline, 404 ``resource_missing``); every answer carries ``Request-Id``.

Routes: ``/v1/payment_intents`` (create, retrieve, update, ``confirm``, ``capture``,
``cancel``), ``/v1/charges/{id}``, ``/v1/refunds`` (create, retrieve), ``/v1/disputes/{id}``,
``/v1/events`` (list, retrieve), ``/v1/webhook_endpoints`` (create: answers the signing
``secret`` once, as Stripe does; update: ``disabled=true|false``).
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crossdock.retry import Backoff
from crossdock.sandbox.stripe.account import CardError, RequestError, StripeAccount, new_id
from crossdock.sandbox.stripe.webhooks import StripeEndpoint, StripeWebhooks

__all__ = ["StripeSandbox", "StripeSandboxSettings", "create_app", "decode_form"]

IDEMPOTENCY_MISMATCH = (
    "Keys for idempotent requests can only be used with the same parameters they were first "
    "used with."
)
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


@dataclass(frozen=True)
class StripeSandboxSettings:
    api_key: str = "sk_test_crossdock_sandbox"
    webhook_url: str | None = None
    """An endpoint configured at start (Stripe's Dashboard does it): where events go."""
    webhook_secret: str = "whsec_crossdock_sandbox"
    enabled_events: tuple[str, ...] = ("*",)
    attempts: int = 4
    """Deliveries of one event to one endpoint: the first and three retries (test mode)."""
    retry_base_s: float = 0.5
    retry_max_s: float = 30.0


@dataclass
class StripeSandbox:
    settings: StripeSandboxSettings
    account: StripeAccount
    webhooks: StripeWebhooks
    idempotency: dict[str, tuple[list[tuple[str, str]], int, dict[str, Any]]] = field(
        default_factory=dict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket notation to nested values: ``a[b]=1`` → ``{"a": {"b": "1"}}``,
    ``a[]=1&a[]=2`` → ``{"a": ["1", "2"]}``."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        found = _KEY.match(key)
        if not found:
            raise RequestError(f"Invalid parameter name: {key}", key)
        parts = [found.group(1), *re.findall(r"\[([^\[\]]*)\]", found.group(2))]
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            following = None if last else parts[i + 1]
            if part == "":
                if not isinstance(node, list):
                    raise RequestError(f"Invalid array: {key}", key)
                if last:
                    node.append(value)
                else:
                    node.append({} if following != "" else [])
                    node = node[-1]
                continue
            if not isinstance(node, dict):
                raise RequestError(f"Invalid hash: {key}", key)
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, [] if following == "" else {})
    return out


def create_app(settings: StripeSandboxSettings) -> Starlette:
    webhooks = StripeWebhooks(
        attempts=settings.attempts,
        backoff=Backoff(base_s=settings.retry_base_s, factor=2.0, max_s=settings.retry_max_s),
    )
    account = StripeAccount(publish=webhooks.publish)
    sandbox = StripeSandbox(settings, account, webhooks)
    if settings.webhook_url:
        webhooks.add_endpoint(
            StripeEndpoint(
                new_id("we"),
                settings.webhook_url,
                settings.webhook_secret,
                list(settings.enabled_events),
            )
        )

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            key = value.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(value).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                return False
        else:
            return False
        return secrets.compare_digest(key, settings.api_key)

    Handler = Callable[[Request, dict[str, Any], tuple[str | None, str | None]], Any]

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def run(request: Request) -> JSONResponse:
            request_id = new_id("req")
            headers = {"Request-Id": request_id, "Stripe-Version": "2024-06-20"}
            if not authorised(request):
                body = {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "Invalid API Key provided. You did not provide a valid API key.",
                    }
                }
                return JSONResponse(body, 401, headers=headers)
            if request.method == "POST":
                raw = (await request.body()).decode("utf-8", "replace")
                pairs = parse_qsl(raw, keep_blank_values=True)
            else:
                pairs = list(request.query_params.multi_items())
            key = request.headers.get("idempotency-key") if request.method == "POST" else None
            if key:
                with sandbox.lock:
                    stored = sandbox.idempotency.get(key)
                if stored is not None:
                    if stored[0] != pairs:
                        body = {
                            "error": {
                                "type": "idempotency_error",
                                "message": IDEMPOTENCY_MISMATCH,
                            }
                        }
                        return JSONResponse(body, 400, headers=headers)
                    replay = {**headers, "Idempotent-Replayed": "true"}
                    return JSONResponse(stored[2], stored[1], headers=replay)
            status = 200
            try:
                params = decode_form(pairs)
                body = handler(request, params, (request_id, key))
            except CardError as exc:
                status, body = 402, exc.body()
                body["error"]["request_log_url"] = (
                    f"https://dashboard.stripe.com/test/logs/{request_id}"
                )
            except RequestError as exc:
                status, body = exc.status, exc.body()
            if key:
                with sandbox.lock:
                    sandbox.idempotency[key] = (pairs, status, body)
            return JSONResponse(body, status, headers=headers)

        return run

    def path(request: Request) -> str:
        return str(request.path_params["id"])

    def add_endpoint(_: Request, params: dict[str, Any], __: Any) -> dict[str, Any]:
        url = params.get("url")
        events = params.get("enabled_events")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise RequestError("Invalid URL", "url")
        if not isinstance(events, list) or not events:
            raise RequestError("Missing required param: enabled_events.", "enabled_events")
        made = webhooks.add_endpoint(
            StripeEndpoint(
                new_id("we"), url, f"whsec_{secrets.token_hex(16)}", [str(e) for e in events]
            )
        )
        return {**made.public(), "secret": made.secret}

    def update_endpoint(request: Request, params: dict[str, Any], __: Any) -> dict[str, Any]:
        found = webhooks.endpoints.get(path(request))
        if found is None:
            raise RequestError(
                f"No such webhook endpoint: '{path(request)}'", "id", 404, "resource_missing"
            )
        if "disabled" in params:
            flag = str(params["disabled"]).lower()
            if flag not in ("true", "false"):
                raise RequestError("Invalid boolean: " + flag, "disabled")
            found = webhooks.set_status(found.id, "disabled" if flag == "true" else "enabled")
        return found.public()

    routes = [
        Route(
            "/v1/payment_intents",
            endpoint(lambda r, p, q: account.create_intent(p, q)),
            methods=["POST"],
        ),
        Route(
            "/v1/payment_intents/{id}",
            endpoint(lambda r, p, q: account.intent(path(r))),
            methods=["GET"],
        ),
        Route(
            "/v1/payment_intents/{id}",
            endpoint(lambda r, p, q: account.update_intent(path(r), p)),
            methods=["POST"],
        ),
        Route(
            "/v1/payment_intents/{id}/confirm",
            endpoint(lambda r, p, q: account.confirm_intent(path(r), p, q)),
            methods=["POST"],
        ),
        Route(
            "/v1/payment_intents/{id}/capture",
            endpoint(lambda r, p, q: account.capture_intent(path(r), p, q)),
            methods=["POST"],
        ),
        Route(
            "/v1/payment_intents/{id}/cancel",
            endpoint(lambda r, p, q: account.cancel_intent(path(r), p, q)),
            methods=["POST"],
        ),
        Route(
            "/v1/charges/{id}", endpoint(lambda r, p, q: account.charge(path(r))), methods=["GET"]
        ),
        Route(
            "/v1/refunds", endpoint(lambda r, p, q: account.create_refund(p, q)), methods=["POST"]
        ),
        Route(
            "/v1/refunds/{id}", endpoint(lambda r, p, q: account.refund(path(r))), methods=["GET"]
        ),
        Route(
            "/v1/disputes/{id}", endpoint(lambda r, p, q: account.dispute(path(r))), methods=["GET"]
        ),
        Route("/v1/events", endpoint(lambda r, p, q: account.list_events(p)), methods=["GET"]),
        Route("/v1/events/{id}", endpoint(lambda r, p, q: account.event(path(r))), methods=["GET"]),
        Route("/v1/webhook_endpoints", endpoint(add_endpoint), methods=["POST"]),
        Route("/v1/webhook_endpoints/{id}", endpoint(update_endpoint), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app
