"""Errors in Odoo's exact shapes. ``/jsonrpc`` answers every error with HTTP 200 and an ``error``
object (``code`` 200, ``message`` "Odoo Server Error", ``data.name`` the Python exception path,
``data.message``, ``arguments``, ``debug``, ``context``); a method returning None has no ``result``
member (messages checked against Odoo 18). JSON-2 (19+) answers with an HTTP status and the error
object as the body (the sandbox's mapping: no Odoo 19 was at hand to check the statuses)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crossdock.sandbox.odoo import SandboxServer
from tests.sandbox.conftest import inject, quick


@pytest.fixture(scope="module")
def v18() -> Iterator[SandboxServer]:
    with SandboxServer(quick()) as server:
        yield server


@pytest.fixture(scope="module")
def v19() -> Iterator[SandboxServer]:
    with SandboxServer(quick(version=19)) as server:
        yield server


def rpc(server: SandboxServer, service: str, method: str, *args: Any) -> httpx.Response:
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": list(args)},
        "id": 41,
    }
    return httpx.post(f"{server.url}/jsonrpc", json=body)


def execute(
    server: SandboxServer,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    password: str = "admin",
    db: str = "crossdock",
) -> httpx.Response:
    return rpc(server, "object", "execute_kw", db, 2, password, model, method, args, kwargs or {})


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error object, after checking the envelope every JSON-RPC error has."""
    assert response.status_code == 200
    payload = response.json()
    assert payload["jsonrpc"] == "2.0" and payload["id"] == 41 and "result" not in payload
    error = payload["error"]
    assert (error["code"], error["message"]) == (200, "Odoo Server Error")
    data: dict[str, Any] = error["data"]
    assert set(data) == {"name", "message", "arguments", "debug", "context"}
    assert data["arguments"] == [data["message"]]
    assert data["debug"].startswith("Traceback (most recent call last):")
    return data


@pytest.mark.parametrize(
    ("call", "name", "message"),
    [
        (
            lambda s: execute(s, "res.partner", "search", [[]], password="wrong"),
            "odoo.exceptions.AccessDenied",
            "Access Denied",
        ),
        (
            lambda s: execute(s, "no.such.model", "search", [[]]),
            "odoo.exceptions.UserError",
            "Object no.such.model doesn't exist",
        ),
        (
            lambda s: execute(s, "res.partner", "_compute_display_name", [[1]]),
            "odoo.exceptions.AccessError",
            "Private methods (such as 'res.partner._compute_display_name') cannot be called "
            "remotely.",
        ),
        (
            lambda s: execute(s, "res.partner", "create", [[{"name": "x", "no_such_field": 1}]]),
            "builtins.ValueError",
            "Invalid field 'no_such_field' on model 'res.partner'",
        ),
        (
            lambda s: execute(s, "res.partner", "create", [[{"name": "x", "customer_rank": "a"}]]),
            "builtins.ValueError",
            "invalid literal for int() with base 10: 'a'",
        ),
        (
            lambda s: execute(s, "res.partner", "read", [[999999], ["name"]]),
            "odoo.exceptions.MissingError",
            "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)",
        ),
        (
            lambda s: execute(s, "sale.order", "create", [[{"partner_id": 999999}]]),
            "odoo.exceptions.MissingError",
            "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)",
        ),
        (
            lambda s: execute(s, "res.partner", "no_such_method", [[1]]),
            "builtins.AttributeError",
            "The method 'res.partner.no_such_method' does not exist",
        ),
    ],
)
def test_jsonrpc_errors_have_odoos_shape(
    v18: SandboxServer, call: Any, name: str, message: str
) -> None:
    data = error_of(call(v18))
    assert (data["name"], data["message"]) == (name, message)


def test_a_missing_mandatory_field_is_a_validation_error_naming_model_and_field(
    v18: SandboxServer,
) -> None:
    data = error_of(execute(v18, "sale.order", "create", [[{}]]))
    assert data["name"] == "odoo.exceptions.ValidationError"
    assert data["message"].startswith("The operation cannot be completed:\n")
    assert "Model: Sales Order (sale.order)" in data["message"]
    assert "(partner_id)" in data["message"]


def test_an_unknown_database_leaks_postgresqls_message_like_odoo(v18: SandboxServer) -> None:
    data = error_of(execute(v18, "res.partner", "search", [[]], db="nope"))
    assert data["name"] == "psycopg2.OperationalError"
    assert 'database "nope" does not exist' in data["message"]


def test_authenticate_with_a_wrong_password_is_false_not_an_error(v18: SandboxServer) -> None:
    wrong = rpc(v18, "common", "authenticate", "crossdock", "admin", "wrong", {}).json()
    right = rpc(v18, "common", "authenticate", "crossdock", "admin", "admin", {}).json()
    assert wrong == {"jsonrpc": "2.0", "id": 41, "result": False}
    assert right["result"] == 2


def test_a_method_returning_none_has_no_result_member(v18: SandboxServer) -> None:
    [location] = execute(
        v18, "stock.location", "search", [[["usage", "=", "internal"]]], {"limit": 1}
    ).json()["result"]
    [product] = execute(
        v18, "product.product", "create", [[{"name": "N", "type": "consu", "is_storable": True}]]
    ).json()["result"]
    context = {"context": {"inventory_mode": True}}
    [quant] = execute(
        v18,
        "stock.quant",
        "create",
        [[{"product_id": product, "location_id": location, "inventory_quantity": 3}]],
        context,
    ).json()["result"]

    payload = execute(v18, "stock.quant", "action_apply_inventory", [[quant]], context).json()

    assert payload == {"jsonrpc": "2.0", "id": 41}


def test_injected_faults_over_jsonrpc(v18: SandboxServer) -> None:
    inject(v18, fail_next=["serialization", "user", "502"])
    serialization = error_of(execute(v18, "res.partner", "search", [[]]))
    user = error_of(execute(v18, "res.partner", "search", [[]]))
    gateway = execute(v18, "res.partner", "search", [[]])

    assert serialization["name"] == "psycopg2.errors.SerializationFailure"
    assert serialization["message"] == "could not serialize access due to concurrent update"
    assert user["name"] == "odoo.exceptions.UserError"
    assert gateway.status_code == 502 and gateway.text == "HTTP 502"  # from the proxy, not JSON


def test_odoo_16_to_18_close_every_connection_and_19_keeps_it_alive(
    v18: SandboxServer, v19: SandboxServer
) -> None:
    assert rpc(v18, "common", "version").headers["connection"] == "close"
    assert "close" not in rpc(v19, "common", "version").headers.get("connection", "")


# ---------------------------------------------------------------------- JSON-2 (Odoo 19)


def json2(
    server: SandboxServer,
    model: str,
    method: str,
    body: dict[str, Any],
    key: str = "sandbox-api-key",
) -> httpx.Response:
    headers = {"Authorization": f"bearer {key}", "X-Odoo-Database": "crossdock"}
    return httpx.post(f"{server.url}/json/2/{model}/{method}", json=body, headers=headers)


def test_json2_answers_the_bare_result(v19: SandboxServer) -> None:
    created = json2(v19, "res.partner", "create", {"vals_list": [{"name": "J2"}]})
    [pid] = created.json()
    read = json2(v19, "res.partner", "read", {"ids": [pid], "fields": ["name"]})

    assert created.status_code == 200 and read.status_code == 200
    assert read.json() == [{"id": pid, "name": "J2"}]


@pytest.mark.parametrize(
    ("model", "method", "body", "key", "status", "name"),
    [
        ("res.partner", "search", {"domain": []}, "wrong", 401, "werkzeug.exceptions.Unauthorized"),
        ("res.partner", "_compute_display_name", {"ids": [1]}, None, 403,
         "odoo.exceptions.AccessError"),
        ("res.partner", "read", {"ids": [999999], "fields": ["name"]}, None, 404,
         "odoo.exceptions.MissingError"),
        ("no.such.model", "search", {"domain": []}, None, 422, "odoo.exceptions.UserError"),
        ("sale.order", "create", {"vals_list": [{}]}, None, 422,
         "odoo.exceptions.ValidationError"),
        ("res.partner", "create", {"vals_list": [{"no_such_field": 1}]}, None, 422,
         "builtins.ValueError"),
    ],
)
def test_json2_errors_are_http_statuses_with_the_error_as_body(
    v19: SandboxServer,
    model: str,
    method: str,
    body: dict[str, Any],
    key: str | None,
    status: int,
    name: str,
) -> None:
    response = json2(v19, model, method, body, key or "sandbox-api-key")

    assert response.status_code == status
    data = response.json()
    assert data["name"] == name and data["message"]
    assert set(data) == {"name", "message", "arguments", "debug", "context"}


def test_json2_does_not_exist_before_odoo_19(v18: SandboxServer) -> None:
    response = json2(v18, "res.partner", "search", {"domain": []})
    assert response.status_code == 404


def test_json2_serialisation_failure_is_a_conflict(v19: SandboxServer) -> None:
    inject(v19, fail_next=["serialization"])
    response = json2(v19, "res.partner", "search", {"domain": []})
    assert response.status_code == 409
    assert response.json()["name"] == "psycopg2.errors.SerializationFailure"
