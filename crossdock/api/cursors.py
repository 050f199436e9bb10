"""Page cursors of the API's lists: opaque to clients, a (time, id) pair to the routes."""

from __future__ import annotations

import base64
import json

from crossdock.api.problems import Problem


def page_cursor(at: float, last: str) -> str:
    """The cursor of the page after the row (`at`, `last`)."""
    return base64.urlsafe_b64encode(json.dumps([at, last]).encode()).decode()


def read_cursor(cursor: str) -> tuple[float, str]:
    """The (time, id) a cursor holds; a string this API did not give out is a 400 problem."""
    try:
        at, last = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(at), str(last)
    except (ValueError, TypeError, RecursionError) as exc:
        raise Problem(
            400,
            "Bad request",
            "cursor: not a cursor this API gave out",
            kind="bad-cursor",
            errors=[{"pointer": "/query/cursor", "rule": "cursor", "detail": "unknown cursor"}],
        ) from exc
