"""Ports of servers the suite and the benches start: free ones out of the way of outgoing
connections, and a sandbox that moves off a taken port only when asked to."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from crossdock.sandbox.odoo.server import PRIVATE_LOW, SandboxServer, free_port


def test_a_free_port_is_below_the_ephemeral_range_and_can_be_bound() -> None:
    ranges = Path("/proc/sys/net/ipv4/ip_local_port_range")
    if not ranges.exists():
        pytest.skip("no ephemeral port range to read here")
    low = int(ranges.read_text().split()[0])
    for _ in range(20):
        port = free_port()
        if low - PRIVATE_LOW >= 50:
            assert PRIVATE_LOW <= port < low
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_sandbox_on_a_taken_port_fails_unless_it_may_move() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            SandboxServer(port=port)
        with SandboxServer(port=port, fallback=True) as moved:
            assert moved.port != port
            assert moved.url == f"http://127.0.0.1:{moved.port}"
