"""The HTTP server the CLI runs the app in (`crossdock serve`, `crossdock demo`)."""

from __future__ import annotations

import contextlib
from collections.abc import Generator

import uvicorn


class Server(uvicorn.Server):
    """Uvicorn without its own signal handling: `run` owns SIGINT/SIGTERM so that the workers
    finish their batches and release their leases before the process exits (with status 0)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield
