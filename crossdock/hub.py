"""The composition root: builds the engine (and, as flows arrive, their connectors and handlers)
from a validated configuration. The CLI, the server and the tests start the hub through here."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.config import Config, sqlalchemy_url
from crossdock.engine import Engine, EngineSettings, Lane, Limiter
from crossdock.migrations import upgrade


@dataclass
class Hub:
    config: Config
    engine: Engine


def database_url(cfg: Config) -> str:
    return sqlalchemy_url(cfg)


def build_hub(cfg: Config) -> Hub:
    settings = EngineSettings(
        partitions=cfg.engine.partitions,
        lease_seconds=cfg.engine.lease_seconds,
        poll_interval_s=cfg.engine.poll_interval_ms / 1000,
        sqlite_synchronous=cfg.engine.sqlite_synchronous,
    )
    lanes = [Lane(name, lane.priority, lane.concurrency) for name, lane in cfg.lanes.items()]
    engine = Engine(database_url(cfg), settings=settings, lanes=lanes)
    for name, system in cfg.systems.items():
        engine.add_limiter(
            Limiter(name, system.limits.rate_per_s, system.limits.burst, system.limits.concurrency)
        )
    return Hub(cfg, engine)


def migrate(cfg: Config) -> None:
    upgrade(database_url(cfg))
