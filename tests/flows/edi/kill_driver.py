"""A process that picks up and processes a partner's files from a directory drop into a SQLite
file, for the kill -9 test: with a pause point it prints the point's name and blocks (on stdin)
there, so the test kills it at that exact place; without, it runs one round and prints DONE.

    python -m tests.flows.edi.kill_driver DB INBOUND OUTBOUND [fetch|stored|parsing|applying]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import Connection, insert

from crossdock.config.edi import DirectoryTransport
from crossdock.connectors.edi.directory import DirectoryMailbox
from crossdock.connectors.edi.envelope import IsaHeader
from crossdock.connectors.edi.port import RemoteFile
from crossdock.engine import Database
from crossdock.flows.edi import store
from crossdock.flows.edi.inbound import (
    Documents,
    FileOutcome,
    Retrying,
    envelope_processor,
    poll_partner,
    process_due,
)
from crossdock.flows.edi.tables import edi_interchanges
from tests.flows.edi.support import partner


def _pause(point: str) -> None:
    print(point, flush=True)
    sys.stdin.readline()  # blocks until the test kills this process
    raise SystemExit("not killed")


class PausingMailbox(DirectoryMailbox):
    def __init__(self, settings: DirectoryTransport, pause: str) -> None:
        super().__init__(settings)
        self.pause = pause

    async def fetch(self, file: RemoteFile, into: Path) -> None:
        if self.pause != "fetch":
            return await super().fetch(file, into)
        source = (self.settings.inbound / file.name).read_bytes()
        with into.open("wb") as f:
            f.write(source[: len(source) // 2])
            f.flush()
            _pause("fetch")

    async def done(self, file: RemoteFile) -> None:
        if self.pause == "stored":
            _pause("stored")
        await super().done(file)


async def main(db_path: str, inbound: str, outbound: str, pause: str) -> None:
    settings = {"kind": "directory", "inbound": inbound, "outbound": outbound}
    acme = partner(settings)
    assert isinstance(acme.transport, DirectoryTransport)
    db = Database(f"sqlite:///{db_path}")

    def sets(conn: Connection, file: store.EdiFile, isa: IsaHeader, now: float) -> FileOutcome:
        if pause == "parsing":
            _pause("parsing")  # inside the transaction that records the first verdict
        return FileOutcome(
            "parsed", detail={"bytes_seen": sum(map(len, store.chunks(conn, file.id)))}
        )

    def apply(conn: Connection, file: store.EdiFile, now: float) -> FileOutcome:
        conn.execute(
            insert(edi_interchanges).values(
                partner="applied", control=file.id[-9:], file_id=file.id, at=now
            )
        )
        if pause == "applying":
            _pause("applying")  # inside the transaction of the second phase, after its effect
        return FileOutcome("processed")

    try:
        await poll_partner(db, "acme", PausingMailbox(acme.transport, pause), retrying=Retrying())
        processor = envelope_processor({"acme": acme}, Documents(sets, apply))
        while await process_due(db, processor, retrying=Retrying()):
            pass
    finally:
        db.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(args[0], args[1], args[2], args[3] if len(args) > 3 else ""))
