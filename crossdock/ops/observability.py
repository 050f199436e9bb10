"""The operations layer of one hub, built from `observability:` in the configuration.

    ops = Observability.from_config(cfg.observability)
    engine = Engine(url, observer=ops.engine_observer)
    odoo = OdooClient(settings, observer=ops.connectors)   # spans, latency, circuit state
    app.add_middleware(ObservabilityMiddleware, tracing=ops.tracing)

Tracing is on or off for the hub's lifetime (decided here, at hub start); metrics are always on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from opentelemetry.sdk.trace.export import SpanExporter

from crossdock.config.schema import ObservabilityConfig
from crossdock.engine import Engine
from crossdock.ops.collect import Collector, FlowReads
from crossdock.ops.connector_observer import ConnectorObserver
from crossdock.ops.engine_observer import EngineMetricsObserver
from crossdock.ops.tracing import Tracing

__all__ = ["Observability"]


@dataclass
class Observability:
    config: ObservabilityConfig
    tracing: Tracing | None
    engine_observer: EngineMetricsObserver
    connectors: ConnectorObserver
    flows: FlowReads | None = None  # set by the composition root (`crossdock.flows.observed`)
    _collectors: dict[int, Collector] = field(default_factory=dict)

    @classmethod
    def from_config(
        cls, config: ObservabilityConfig | None = None, exporter: SpanExporter | None = None
    ) -> Observability:
        config = config or ObservabilityConfig()
        tracing = Tracing.from_config(config, exporter)
        return cls(config, tracing, EngineMetricsObserver(tracing), ConnectorObserver(tracing))

    def collector(self, engine: Engine) -> Collector:
        """The scrape-time collector for `engine` (one per engine, kept between scrapes)."""
        found = self._collectors.get(id(engine))
        if found is None:
            if self.flows is None:
                raise RuntimeError("the composition root sets Observability.flows first")
            found = self._collectors[id(engine)] = Collector(
                engine, self.connectors.publish_circuits, self.flows
            )
        return found

    async def publish_circuits(self, every_s: float) -> None:
        """Publish this process's circuit states every `every_s` seconds, for scrapes served by
        other processes (the workers process of a multi-process server); runs until cancelled."""
        while True:
            self.connectors.publish_circuits()
            await asyncio.sleep(every_s)

    def shutdown(self) -> None:
        """Flush and stop the span exporter."""
        if self.tracing is not None:
            self.tracing.shutdown()
