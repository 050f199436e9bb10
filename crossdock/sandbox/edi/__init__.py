"""A simulated EDI customer for the demo: ``acme`` trades X12 004010 through a directory drop
(``<dir>/edi/acme/in`` is where it leaves purchase orders, ``out`` where it finds the hub's
answers), as a VAN mailbox mounted as files would look."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

__all__ = ["EDI_CHANNEL", "edi_partner_yaml", "edi_purchase_orders", "edi_received"]

EDI_CHANNEL = "edi-acme"


def edi_partner_yaml(directory: Path) -> str:
    """The EDI customer ``acme``: X12 004010 through a directory drop under ``edi/acme``."""
    root = directory / "edi" / "acme"
    for folder in ("in", "out", "archive"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for stale in (root / folder).iterdir():
            stale.unlink()
    return (
        "edi:\n  poll_schedule: null\n"  # one node: its loop polls every poll_s
        "  poll_s: 0.5\n  retry: {base_s: 0.5, max_s: 5}\n  partners:\n    acme:\n"
        f"      channel: {EDI_CHANNEL}\n"
        "      ours: {isa_qualifier: ZZ, isa_id: CROSSDOCK, gs_id: CROSSDOCK}\n"
        "      theirs: {isa_qualifier: ZZ, isa_id: ACMEEDI, gs_id: ACMEEDI}\n"
        "      delimiters: {line_break: true}\n"
        f"      transport: {{kind: directory, inbound: {root / 'in'}, outbound: {root / 'out'},"
        f" archive: {root / 'archive'}}}\n"
    )


def edi_purchase_orders(
    directory: Path, count: int, skus: Sequence[str], rng: random.Random
) -> None:
    """The EDI customer's 850s (two of ``skus`` each), left where the hub picks them up."""
    for n in range(1, count + 1):
        control = 500 + n
        isa = (
            f"ISA*00*{'':10}*00*{'':10}*ZZ*{'ACMEEDI':<15}*ZZ*{'CROSSDOCK':<15}*261205*0900*U*"
            f"00401*{control:09d}*0*P*>~"
        )
        lines = [
            f"PO1*{i}*{rng.randint(1, 4)}*EA*25.00**VN*{sku}"
            for i, sku in enumerate(rng.sample(list(skus), 2), start=1)
        ]
        body = [
            f"GS*PO*ACMEEDI*CROSSDOCK*20261205*0900*{control}*X*004010",
            "ST*850*0001",
            f"BEG*00*SA*ACME-PO-{n:04d}**20261205",
            "CUR*BY*USD",
            "N1*BY*Acme Stores*92*ACME",
            "N1*ST*Acme DC*92*DC1",
            "N3*1 Dock Road",
            "N4*Springfield*IL*62701*US",
            *lines,
            f"CTT*{len(lines)}",
            f"SE*{len(lines) + 9}*0001",
            f"GE*1*{control}",
            f"IEA*1*{control:09d}",
        ]
        target = directory / "edi" / "acme" / "in" / f"ACME-PO-{n:04d}.x12"
        target.write_text(isa + "~\n".join(body) + "~\n")


def edi_received(directory: Path) -> Counter[str]:
    """What the EDI customer found in its inbox, by transaction set (TA1 for a bare TA1)."""
    found: Counter[str] = Counter()
    for path in (directory / "edi" / "acme" / "out").glob("acme-*.x12"):
        found[path.name.split("-")[1]] += 1
    return found
