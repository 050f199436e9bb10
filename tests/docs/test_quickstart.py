"""docs/quickstart.md, run as written: its `sh` blocks in order, in a fresh directory, with free
ports in PORT and HOOK_PORT. The doc and the test cannot drift: the test reads the doc.

A block preceded by `<!-- quickstart-test: skip … -->` is not run (the clone and install: the
suite runs in an installed checkout, linked into the directory as `.venv`). A block preceded by
`<!-- quickstart-test: background -->` ends a terminal that keeps running (the server): it runs,
with the blocks before it, as one background process; the blocks after it are the next terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.postgres import free_port

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "docs" / "quickstart.md"
BLOCK = re.compile(r"(?:<!-- quickstart-test: (\w+)[^>]*-->\n)?```sh\n(.*?)```", re.DOTALL)


@dataclass
class Block:
    code: str
    mark: str | None  # None, "skip" or "background"


def blocks(markdown: str) -> list[Block]:
    return [Block(m.group(2), m.group(1)) for m in BLOCK.finditer(markdown)]


def terminals(found: list[Block]) -> tuple[list[str], str]:
    """The background scripts (each: the blocks since the last one, then its own) and the
    foreground script of the blocks after the last background block."""
    background: list[str] = []
    pending: list[str] = []
    for block in found:
        if block.mark == "skip":
            continue
        pending.append(block.code)
        if block.mark == "background":
            background.append("".join(pending))
            pending = []
    return background, "".join(pending)


def test_the_quickstart_confirms_an_order_and_receives_its_signed_webhook(
    tmp_path: Path,
) -> None:
    found = blocks(QUICKSTART.read_text())
    assert [b.mark for b in found].count("background") == 1, "one server terminal expected"
    background, foreground = terminals(found)
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    env = {
        **os.environ,
        "PORT": str(free_port()),
        "HOOK_PORT": str(free_port()),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("CROSSDOCK_CONFIG", None)
    servers = [
        subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own group: the test stops the server it started
        )
        for script in background
    ]
    run = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", foreground],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the receiver it starts is in its group too
    )
    try:
        out, err = run.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        out, err = run.communicate()
    finally:
        for server in [*servers, run]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
        logs = [server.communicate(timeout=60)[0] for server in servers]
    context = f"stdout:\n{out}\nstderr:\n{err}\nserver:\n{''.join(logs)[-4000:]}"
    assert run.returncode == 0, context
    delivery = json.loads((tmp_path / "received.jsonl").read_text().splitlines()[0])
    assert delivery["verified"] is True
    assert delivery["payload"]["type"] == "order.confirmed", context
    assert "webhook: order.confirmed" in out, context
    state = re.search(r"^order: WS-1001 (\w+) in Odoo as S\d+", out, re.MULTILINE)
    assert state is not None and state.group(1) in ("confirmed", "released"), context


def test_the_blocks_are_read_with_their_marks() -> None:
    found = blocks(QUICKSTART.read_text())
    assert found[0].mark == "skip" and "make install" in found[0].code
    background, foreground = terminals(found)
    assert "crossdock serve" in background[0] and "crossdock serve" not in foreground
    assert "curl" in foreground
