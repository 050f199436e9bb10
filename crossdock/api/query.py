"""Strict query strings: a query parameter a route does not declare is answered with a 400
problem naming it, on every route of the API, instead of being ignored (a misspelt filter
would otherwise return every record as if it matched).

One application-wide dependency compares the request's query keys with the parameters the
matched route declares (its own and its dependencies'). Dashboard pages, which are not in the
API document, are left alone: a browser adds what it likes to their query strings.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from crossdock.api.problems import Problem

# by id (routes compare by value, so are not hashable); the route is kept with its names, so an
# id is never reused while its entry exists
_DECLARED: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def _declared(dependant: Dependant) -> frozenset[str]:
    names: set[str] = set()
    todo = [dependant]
    while todo:
        current = todo.pop()
        names.update(field.alias for field in current.query_params)
        todo.extend(current.dependencies)
    return frozenset(names)


def declared_query(route: APIRoute) -> frozenset[str]:
    """The query parameters `route` accepts (computed once per route)."""
    found = _DECLARED.get(id(route))
    if found is None or found[0] is not route:
        found = _DECLARED[id(route)] = (route, _declared(route.dependant))
    return found[1]


async def reject_unknown_query(request: Request) -> None:
    """Raise a 400 problem when the query string holds a parameter the route does not declare."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return
    declared = declared_query(route)
    unknown = sorted(set(request.query_params) - declared)
    if not unknown:
        return
    accepts = "this route accepts " + (", ".join(sorted(declared)) or "no query parameter")
    raise Problem(
        400,
        "Bad request",
        f"unknown query parameter(s) {', '.join(unknown)}: {accepts}",
        kind="unknown-query-parameter",
        errors=[
            {"pointer": f"/query/{name}", "rule": "unknown_parameter", "detail": accepts}
            for name in unknown
        ],
    )
