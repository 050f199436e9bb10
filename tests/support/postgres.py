"""A real PostgreSQL server for the test suite, started from the machine's PostgreSQL install.

As root (CI), the server runs as the `postgres` system user, since PostgreSQL refuses to run as
root. Durability settings are relaxed (fsync off): the tests kill processes, not the machine.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

from crossdock.sandbox.odoo.server import free_port

__all__ = ["PostgresServer", "find_bindir", "free_port"]


def find_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version, reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


START_ATTEMPTS = 5


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int

    @property
    def admin_url(self) -> str:
        return f"postgresql://crossdock@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    @classmethod
    def start(cls, bindir: Path, *, durable: bool = False) -> PostgresServer:
        """Start a server; `durable` keeps PostgreSQL's default fsync settings (benchmarks)."""
        root = Path(tempfile.mkdtemp(prefix="crossdock-pg-"))
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(root, user.pw_uid, user.pw_gid)
        server = cls(bindir, root, free_port())
        server._run(
            "initdb",
            "-D",
            str(root / "data"),
            "-U",
            "crossdock",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        relaxed = ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        log = root / "server.log"
        # The port is free when chosen but may be taken before the server binds it (another run
        # of the suite beside this one): then the server starts again on another free port.
        for attempt in range(1, START_ATTEMPTS + 1):
            options = " ".join(
                [
                    f"-p {server.port}",
                    f"-k {root}",
                    "-c listen_addresses=127.0.0.1",
                    "-c max_connections=300",
                    *([] if durable else relaxed),
                ]
            )
            try:
                server._run("pg_ctl", "-D", str(root / "data"), "-o", options, "-w", "-l",
                            str(log), "start")
                return server
            except subprocess.CalledProcessError:
                taken = log.exists() and "already in use" in log.read_text(errors="replace")
                if not taken or attempt == START_ATTEMPTS:
                    raise
                log.unlink()
                server.port = free_port()
        raise AssertionError("unreachable")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://crossdock@127.0.0.1:{self.port}/{name}"

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
