"""Fixtures of the AS2 tests: the hub's and the partner's certificates, the partner's AS2
server on 127.0.0.1 and the hub's API on another (uvicorn), configured for each other."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crossdock.config.edi import EdiConfig, EdiPartner
from crossdock.connectors.edi.transports import open_transport
from crossdock.engine import Database
from crossdock.flows.edi.documents import documents
from crossdock.flows.edi.service import EdiService, engine_writes
from crossdock.migrations import upgrade
from tests.api.conftest import Api, serve_api
from tests.connectors.edi.as2.support import (
    HUB_ID,
    PARTNER_ID,
    Identity,
    Partner,
    make_identity,
    partner_server,
)


@dataclass
class Keys:
    hub: Identity
    partner: Identity
    forger: Identity
    """Another key under the partner's name: what a forger holds."""


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("as2-keys")
    return Keys(
        make_identity(folder, "hub"),
        make_identity(folder, "partner"),
        make_identity(folder / "forger", "partner"),
    )


@pytest.fixture
def partner(keys: Keys) -> Iterator[Partner]:
    with partner_server(Partner(keys.partner, keys.hub, forger=keys.forger)) as running:
        yield running


def transport(keys: Keys, url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "as2",
        "url": url,
        "as2_id": HUB_ID,
        "partner_as2_id": PARTNER_ID,
        "certificate": str(keys.hub.certificate),
        "private_key": str(keys.hub.key),
        "partner_certificate": str(keys.partner.certificate),
        **overrides,
    }


def profile(keys: Keys, url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "channel": "edi-acme",
        "ours": {"isa_qualifier": "ZZ", "isa_id": "CROSSDOCK", "gs_id": "CROSSDOCK"},
        "theirs": {"isa_qualifier": "01", "isa_id": "123456789", "gs_id": "ACME"},
        "transport": transport(keys, url, **overrides),
    }


@dataclass
class As2Hub:
    api: Api
    partner: Partner
    service: EdiService

    @property
    def url(self) -> str:
        return str(self.api.client.base_url.join("/v1/edi/as2/acme"))


@pytest.fixture
def hub_config(tmp_path: Path, keys: Keys, partner: Partner) -> dict[str, Any]:
    return {
        "database": {"url": f"sqlite:///{tmp_path / 'hub.db'}"},
        "api": {"port": 0},
        "edi": {
            "max_attempts": 2,
            "retry": {"base_s": 60, "max_s": 60},
            "partners": {"acme": profile(keys, partner.url)},
        },
    }


@pytest.fixture
async def hub(hub_config: dict[str, Any], partner: Partner) -> AsyncIterator[As2Hub]:
    async with serve_api(hub_config) as api:
        edi = api.hub.config.edi
        acme: EdiPartner = edi.partners["acme"]
        service = EdiService(
            EdiConfig.model_validate(edi.model_dump()),
            api.hub.engine.db,
            {"acme": open_transport("acme", acme)},
            documents({"acme": acme}, partitions=lambda: api.hub.engine.partitions),
            write=engine_writes(api.hub.engine),
            clock=time.time,
        )
        try:
            yield As2Hub(api, partner, service)
        finally:
            await service.stop()


@pytest.fixture(scope="session")
def as2_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("as2-db") / "template.db"
    upgrade(f"sqlite:///{path}", "heads")
    return path


@pytest.fixture
def db(as2_template: Path, tmp_path: Path) -> Iterator[Database]:
    target = tmp_path / "edi.db"
    shutil.copyfile(as2_template, target)
    database = Database(f"sqlite:///{target}")
    try:
        yield database
    finally:
        database.close()
