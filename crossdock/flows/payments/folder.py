"""Bank statement files picked up from a folder on a schedule, each file once.

The ``payments.statements`` schedule appends :data:`DUE`; the ``payment_statements`` consumer (one
subject: one pick-up at a time across the cluster) looks at the inbox, oldest name first, and for
each file:

1. hashes its content (SHA-256): a file is known by what it holds, not by its name, so the bank
   sending a statement again under another name is recognised;
2. records it ``importing`` (first time seen), then imports it with
   :func:`~crossdock.flows.payments.statements.import_statement`, whose entries are appended
   idempotently (each entry's key), chunk by chunk;
3. records it ``imported``, then moves it to the archive.

A process killed anywhere in this leaves the file in the inbox and its row ``importing`` (or
``imported``): the next pick-up imports it again and every entry already appended is recognised
(counted a duplicate, never reported twice), or, if it was imported, just archives it. So each
file's payments are reported exactly once.

A file that is no statement (neither CAMT.053 nor CSV, or an entry or line that cannot be read) is
never skipped silently: nothing of it is reported (the import checks every entry before it appends
any), it is recorded ``rejected`` with the line or entry and the rule, an exception opens for
finance naming the file and the line, and it is moved to the ``rejected`` folder (or left in the
inbox, where its content is recognised and no second exception opens). A corrected file is new
content: it is imported.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, select, update

from crossdock.config.payments import StatementFolderConfig
from crossdock.connectors.bank.statements import HEAD_BYTES, sniff
from crossdock.connectors.gateway.report import GatewayError
from crossdock.engine import Batch, Engine, Schedule, Subscription
from crossdock.flows.exceptions import open_exception
from crossdock.flows.payments.statements import Imported, import_statement
from crossdock.flows.payments.tables import statement_files

__all__ = ["DUE", "GROUP", "PickedUp", "StatementFolder", "file_digest", "where"]

DUE = "payments.statements_due"
GROUP = "payment_statements"
SCHEDULE = "payments.statements"
EXCEPTION = "statement_rejected"
_LINE = re.compile(r"^/line/(\d+)(?:/(\w+))?$")
_ENTRY = re.compile(r"^/Stmt/Ntry\[(\d+)\](/.*)?$")

log = structlog.get_logger(__name__)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def where(pointer: str) -> str:
    """A reader's pointer in words: ``/line/7/amount`` → ``line 7 (amount)``;
    ``/Stmt/Ntry[3]/Amt`` → ``entry 3 (Ntry/Amt)``; ``/`` → ``the file``."""
    if found := _LINE.match(pointer):
        return f"line {found.group(1)}" + (f" ({found.group(2)})" if found.group(2) else "")
    if found := _ENTRY.match(pointer):
        return f"entry {found.group(1)} (Ntry{found.group(2) or ''})"
    return "the file" if pointer in ("", "/") else pointer


@dataclass(frozen=True, slots=True)
class PickedUp:
    name: str
    digest: str
    outcome: str
    """``imported``; ``known`` (its content was imported before: archived only); ``rejected``."""
    imported: Imported | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Known:
    state: str
    error: str | None


class StatementFolder:
    """The pick-up of one configured folder (see the module documentation)."""

    def __init__(self, engine: Engine, settings: StatementFolderConfig, owner: str) -> None:
        self.engine = engine
        self.settings = settings
        self.owner = owner

    def subscription(self, **kwargs: Any) -> Subscription:
        return Subscription(GROUP, (DUE,), self.handle, **kwargs)

    def schedule(self) -> Schedule:
        return Schedule(SCHEDULE, self.settings.cron, DUE, {}, self.settings.timezone)

    async def handle(self, batch: Batch) -> None:
        if any(event.type == DUE for event in batch.events):
            await self.pick_up()

    def _files(self) -> list[Path]:
        inbox = Path(self.settings.inbox)
        return sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith("."))

    async def pick_up(self) -> list[PickedUp]:
        """Work every file of the inbox, in name order."""
        done: list[PickedUp] = []
        for path in await asyncio.to_thread(self._files):
            done.append(await self._one(path))
        return done

    async def _one(self, path: Path) -> PickedUp:
        digest = await asyncio.to_thread(file_digest, path)
        known = await self.engine.db.read(lambda c: _known(c, digest))
        if known is not None and known.state == "imported":
            await asyncio.to_thread(_move, path, Path(self.settings.archive), digest)
            log.info("payments.statement_file_known", file=path.name, digest=digest[:16])
            return PickedUp(path.name, digest, "known")
        if known is not None and known.state == "rejected":
            if self.settings.rejected:
                await asyncio.to_thread(_move, path, Path(self.settings.rejected), digest)
            return PickedUp(path.name, digest, "rejected", error=known.error)
        if known is None:
            now = time.time()
            await self.engine.writer.submit(lambda c: _seen(c, digest, path.name, now))
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        fmt = sniff(head)
        try:
            if fmt is None:
                raise GatewayError("/", "format", "neither a CAMT.053 statement nor a CSV one")
            imported = await import_statement(self.engine, path, fmt)
        except GatewayError as exc:
            return await self._reject(path, digest, exc)
        await self.engine.writer.submit(lambda c: _imported(c, digest, imported, time.time()))
        await asyncio.to_thread(_move, path, Path(self.settings.archive), digest)
        log.info(
            "payments.statement_file_imported",
            file=path.name,
            statement=imported.statement_id,
            entries=imported.entries,
            new=imported.new,
            duplicates=imported.duplicates,
        )
        return PickedUp(path.name, digest, "imported", imported)

    async def _reject(self, path: Path, digest: str, exc: GatewayError) -> PickedUp:
        error = f"{where(exc.pointer)}: {exc.detail}"
        reason = f"bank statement file {path.name} refused at {error} (rule {exc.rule})"

        def write(conn: Connection) -> None:
            now = time.time()
            conn.execute(
                update(statement_files)
                .where(statement_files.c.digest == digest)
                .values(state="rejected", error=error, done_at=now)
            )
            open_exception(
                conn,
                type=EXCEPTION,
                owner=self.owner,
                subject=f"statement_file:{digest}",
                reason=reason,
                actions=["dismiss"],
                now=now,
            )

        await self.engine.writer.submit(write)
        if self.settings.rejected:
            await asyncio.to_thread(_move, path, Path(self.settings.rejected), digest)
        log.warning("payments.statement_file_rejected", file=path.name, error=error)
        return PickedUp(path.name, digest, "rejected", error=error)


def _known(conn: Connection, digest: str) -> _Known | None:
    row = conn.execute(
        select(statement_files.c.state, statement_files.c.error).where(
            statement_files.c.digest == digest
        )
    ).first()
    return _Known(row.state, row.error) if row is not None else None


def _seen(conn: Connection, digest: str, name: str, now: float) -> None:
    if _known(conn, digest) is None:
        conn.execute(
            statement_files.insert().values(
                digest=digest, name=name[:255], state="importing", seen_at=now
            )
        )


def _imported(conn: Connection, digest: str, imported: Imported, now: float) -> None:
    conn.execute(
        update(statement_files)
        .where(statement_files.c.digest == digest)
        .values(
            state="imported",
            format=imported.format,
            statement_id=imported.statement_id,
            entries=imported.entries,
            error=None,
            done_at=now,
        )
    )


def _move(path: Path, folder: Path, digest: str) -> Path:
    """Move ``path`` into ``folder``; a different file of that name there keeps its place (this
    one gets the content hash in its name)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{digest[:12]}{path.suffix}"
    if target.exists():  # the same content moved before: this copy is redundant
        path.unlink()
        return target
    shutil.move(str(path), str(target))
    return target
