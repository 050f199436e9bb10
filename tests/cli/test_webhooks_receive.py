"""`crossdock webhooks receive` (the quickstart's receiver) as a real process: it prints a
delivery whose Standard Webhooks signature verifies and answers 401 to one that does not."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx

from crossdock.webhooks.signing import new_secret, secret_key, signature_header
from tests.support.postgres import free_port
from tests.support.waiting import until_sync


def _answers(url: str) -> bool:
    try:
        httpx.post(url, content=b"{}", timeout=1)
        return True
    except httpx.HTTPError:
        return False


def test_the_receiver_prints_verified_deliveries_and_refuses_forged_ones() -> None:
    secret, port = new_secret(), free_port()
    options = ["--port", str(port), "--secret", secret, "--count", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "crossdock", "webhooks", "receive", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        until_sync(lambda: _answers(url), what="the receiver to listen")  # unsigned: 401
        body = json.dumps({"type": "order.confirmed", "subject": "order:1"}).encode()
        now = int(time.time())
        forged = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(now),
            "webhook-signature": signature_header([secret_key(new_secret())], "msg_1", now, body),
        }
        assert httpx.post(url, content=body, headers=forged).status_code == 401
        signed = {
            **forged,
            "webhook-signature": signature_header([secret_key(secret)], "msg_1", now, body),
        }
        assert httpx.post(url, content=body, headers=signed).status_code == 204
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0  # --count 1: done after the verified one
    printed = json.loads(out.splitlines()[0])
    assert printed["verified"] is True and printed["webhook_id"] == "msg_1"
    assert printed["payload"] == {"type": "order.confirmed", "subject": "order:1"}
    assert err.count("rejected:") == 2  # the unsigned probe and the forged one
