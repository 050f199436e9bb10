"""An AS2 message larger than ``api.limits.as2_message_bytes`` is refused with 413 before it is
read whole, naming the limit; nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.connectors.edi.as2.conftest import As2Hub, Keys
from tests.connectors.edi.as2.support import partner_message
from tests.flows.edi.support import interchange


@pytest.fixture
def hub_config(hub_config: dict[str, Any]) -> dict[str, Any]:
    return {**hub_config, "api": {"port": 0, "limits": {"as2_message_bytes": 4096}}}


async def test_a_message_over_the_limit_is_413(hub: As2Hub, keys: Keys) -> None:
    small = partner_message(interchange(1), keys.partner, keys.hub, message_id="<s@acme>")
    big = partner_message(
        interchange(2) + b"X" * 8192, keys.partner, keys.hub, message_id="<b@acme>"
    )

    refused = await hub.api.client.post(hub.url, content=big.body, headers=big.headers)
    taken = await hub.api.client.post(hub.url, content=small.body, headers=small.headers)

    assert refused.status_code == 413
    assert "as2_message_bytes" in refused.json()["detail"]
    assert taken.status_code == 200
    assert taken.headers["content-type"].startswith("multipart/signed")
