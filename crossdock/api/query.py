"""Strict query strings: a query parameter a route does not declare is answered with a 400
problem naming it, on every route of the API, instead of being ignored (a misspelt filter
would otherwise return every record as if it matched).

The API's routers make their routes with :class:`StrictQueryRoute`, whose handler compares the
request's query keys with the parameters the route declares (its own and its dependencies')
before anything else runs. A route class rather than a dependency: a request without a query
string pays one comparison, where a dependency costs every request FastAPI's solving of it.
Dashboard pages keep plain routes: a browser adds what it likes to their query strings.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from crossdock.api.problems import Problem


def declared_query(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route with `dependant` accepts."""
    names: set[str] = set()
    todo = [dependant]
    while todo:
        current = todo.pop()
        names.update(field.alias for field in current.query_params)
        todo.extend(current.dependencies)
    return frozenset(names)


def reject_unknown(request: Request, declared: frozenset[str]) -> None:
    """Raise a 400 problem when the query string holds a parameter not in `declared`."""
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


class StrictQueryRoute(APIRoute):
    """An API route that answers a query parameter it does not declare with a 400 problem."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        declared = declared_query(self.dependant)

        async def strict(request: Request) -> Response:
            if request.scope.get("query_string"):
                reject_unknown(request, declared)
            return await handler(request)

        return strict
