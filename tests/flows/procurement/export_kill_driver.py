"""A process exporting the demand history as Parquet into a directory, for the kill -9 test: it
prints ``written`` once the export's first row group is on disk and blocks (on stdin) there, so
the test kills it mid-file.

    python -m tests.flows.procurement.export_kill_driver DB_URL OUT T0
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pyarrow.parquet as pq

from crossdock.engine import Engine, EngineSettings
from crossdock.flows.procurement import export_files
from tests.flows.procurement.test_demand_parquet import exporter


async def main(url: str, out: str, t0: float) -> None:
    export_files.PAGE_ROWS = 2
    written = pq.ParquetWriter.write_table

    def pausing(self: Any, table: Any, *args: Any, **kwargs: Any) -> None:
        written(self, table, *args, **kwargs)
        print("written", flush=True)
        sys.stdin.readline()  # blocks until the test kills this process
        raise SystemExit("not killed")

    pq.ParquetWriter.write_table = pausing
    engine = Engine(url, settings=EngineSettings(partitions=2))
    await engine.start(workers=False, scheduler=False)
    try:
        await exporter(engine, out, t0).export(t0)
    finally:
        await engine.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
