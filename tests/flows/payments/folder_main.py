"""A process picking statement files up from a folder, for the kill -9 test: an engine on the
test's SQLite file and one pick-up of the inbox.

``python -m tests.flows.payments.folder_main <db> <inbox> <archive> [<hang after n> <marker>]``:
with the last two, the process stops making progress after ``n`` chunks of entries are
committed (it writes ``marker`` and waits forever), so the test kills it mid-file at a known
point."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

from crossdock.config.payments import StatementFolderConfig
from crossdock.engine import Engine, EngineSettings, Lane
from crossdock.flows.payments import statements
from crossdock.flows.payments.folder import StatementFolder


def _hang_after(chunks: int, marker: Path) -> None:
    original = statements._append
    done = [0]

    def append(*args: Any, **kwargs: Any) -> int:
        if done[0] >= chunks:
            marker.write_text("hanging")
            threading.Event().wait()  # the writer thread never commits again
        done[0] += 1
        return original(*args, **kwargs)

    statements._append = append  # type: ignore[assignment]


async def main(db: str, inbox: str, archive: str) -> None:
    engine = Engine(
        f"sqlite:///{db}", settings=EngineSettings(partitions=8), lanes=[Lane("default", 0, 1)]
    )
    await engine.start(workers=False)
    try:
        folder = StatementFolder(
            engine, StatementFolderConfig(inbox=inbox, archive=archive), "finance"
        )
        for picked in await folder.pick_up():
            print("picked", picked.name, picked.outcome, flush=True)
    finally:
        await engine.stop()


if __name__ == "__main__":
    if len(sys.argv) == 6:
        _hang_after(int(sys.argv[4]), Path(sys.argv[5]))
    asyncio.run(main(*sys.argv[1:4]))
