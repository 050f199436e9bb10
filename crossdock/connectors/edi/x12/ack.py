"""Acknowledgements: the 997 built from a group's validation, the TA1 from an envelope's, and
inbound 997s and TA1s read into per-set and per-interchange verdicts.

A 997 answers one functional group: AK1 names the group, one AK2 loop per transaction set (with
AK3 for each segment in error, AK4 for each element in error, AK5 accepting or rejecting the set),
and AK9 the group's verdict — ``A`` all accepted, ``P`` some sets rejected (the good ones stand),
``R`` none accepted or the group envelope is broken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from crossdock.connectors.edi.x12.model import (
    Composite,
    ElementError,
    GroupReport,
    InterchangeReport,
    Segment,
    SegmentError,
    TransactionSet,
    X12Error,
    X12SyntaxError,
)
from crossdock.connectors.edi.x12.writer import st_header

__all__ = [
    "FunctionalAck",
    "InterchangeAck",
    "SetAck",
    "acknowledge",
    "read_997",
    "read_ta1",
    "ta1",
]


def acknowledge(
    report: GroupReport,
    control_number: int | str,
    *,
    version: str | None = None,
    include_accepted: bool = True,
) -> TransactionSet:
    """The 997 answering the group `report` describes, as a transaction set with ST02
    `control_number` (the caller wraps it in its GS/ISA).

    `version` (GS08 of the answer; default the group's) decides the 005010 elements: AK103,
    AK203 and the repetition position in AK401. With `include_accepted` false, AK2 loops are
    written only for sets in error (some partners ask for that).
    """
    five = (version or report.version or "")[:6] >= "005010"
    segments: list[Segment] = [
        Segment.of(
            "AK1", report.functional_id, report.control_number, report.version if five else None
        )
    ]
    for result in report.sets:
        if result.accepted and not include_accepted:
            continue
        segments.append(
            Segment.of(
                "AK2", result.set_id, result.control_number, result.convention if five else None
            )
        )
        for error in result.segment_errors:
            segments.append(
                Segment.of(
                    "AK3",
                    error.segment_id[:3],
                    str(error.position),
                    (error.loop_id or "")[:4] or None,
                    error.code,
                )
            )
            for element in error.elements:
                segments.append(_ak4(element, five))
        segments.append(Segment.of("AK5", result.status, *result.codes[:5]))
    received = len(report.sets)
    included = report.included if report.included is not None else received
    segments.append(
        Segment.of(
            "AK9",
            report.status,
            str(included),
            str(received),
            str(report.accepted_count),
            *report.codes[:5],
        )
    )
    return TransactionSet(st_header("997", control_number), segments)


def _ak4(error: ElementError, five: bool) -> Segment:
    position: list[str] = [str(error.position), str(error.component or "")]
    if five and error.repetition:
        position.append(str(error.repetition))
    while position[-1] == "":
        position.pop()
    location: str | Composite = position[0] if len(position) == 1 else Composite(position)
    data = error.data[:99] if error.data else None
    return Segment.of("AK4", location, error.reference, error.code, data)


def ta1(
    report: InterchangeReport | X12SyntaxError,
    header: Segment | None = None,
    *,
    when: datetime | None = None,
) -> Segment:
    """The TA1 answering an interchange: accepted (``A``, note ``000``) or rejected (``R``,
    the first note code). `header` is the received ISA (its date and time are echoed); without
    it (an ISA that could not be read) the time of `when` (default now) is used."""
    if isinstance(report, X12SyntaxError):
        control, status, note = report.control_number or "", "R", report.note_code
    else:
        control = report.control_number
        status, note = ("A", "000") if report.accepted else ("R", report.note_codes[0])
    control = control.strip()
    if not control.isdigit():
        control = "0"
    control = control.zfill(9)[-9:]
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    day = (
        header.get(9)
        if header is not None and header.get(9).isdigit()
        else (moment.strftime("%y%m%d"))
    )
    clock = (
        header.get(10)
        if header is not None and header.get(10).isdigit()
        else (moment.strftime("%H%M"))
    )
    return Segment("TA1", (control, day, clock, status, note))


@dataclass(frozen=True, slots=True)
class SetAck:
    """A partner's verdict on one of our transaction sets (AK2 … AK5)."""

    set_id: str
    control_number: str
    status: str
    codes: tuple[str, ...]
    errors: tuple[SegmentError, ...]

    @property
    def accepted(self) -> bool:
        """Accepted (``A``) or accepted with errors noted (``E``)."""
        return self.status in ("A", "E")


@dataclass(frozen=True, slots=True)
class FunctionalAck:
    """A partner's 997 on one of our groups: the group's verdict and each set's."""

    functional_id: str
    group_control_number: str
    status: str
    included: int
    received: int
    accepted_count: int
    codes: tuple[str, ...]
    sets: tuple[SetAck, ...]

    def verdict(self, control_number: str) -> Literal["accepted", "rejected"]:
        """What the 997 says of our set with this ST02: a set without an AK2 takes the group's
        verdict (partners may list only sets in error)."""
        for item in self.sets:
            if item.control_number == control_number:
                return "accepted" if item.accepted else "rejected"
        # Unlisted under "P": the partner listed the rejected sets only.
        return "accepted" if self.status in ("A", "E", "P") else "rejected"


def read_997(transaction_set: TransactionSet) -> FunctionalAck:
    """Read an inbound 997 into the group's and each set's verdict.

    Raises :class:`X12Error` when the set is not a 997 or lacks AK1/AK9."""
    if transaction_set.id != "997":
        raise X12Error(f"transaction set {transaction_set.id} is not a 997")
    ak1 = transaction_set.find("AK1")
    ak9 = transaction_set.find("AK9")
    if ak1 is None or ak9 is None:
        raise X12Error("997 without AK1 or AK9")
    sets: list[SetAck] = []
    current: tuple[str, str] | None = None
    errors: list[SegmentError] = []
    elements: list[ElementError] = []
    pending: Segment | None = None

    def close_segment() -> None:
        nonlocal pending, elements
        if pending is not None:
            errors.append(
                SegmentError(
                    int(pending.get(2) or 0),
                    pending.get(1),
                    pending.get(4),
                    f"{pending.get(1)} at {pending.get(2)}: code {pending.get(4)}",
                    pending.get(3) or None,
                    tuple(elements),
                )
            )
        pending, elements = None, []

    for segment in transaction_set.segments:
        if segment.id == "AK2":
            current = (segment.get(1), segment.get(2))
            errors = []
        elif segment.id == "AK3":
            close_segment()
            pending = segment
        elif segment.id == "AK4":
            component = segment.component(1, 2)
            repetition = segment.component(1, 3)
            elements.append(
                ElementError(
                    int(segment.component(1, 1) or 0),
                    segment.get(3),
                    f"element {segment.component(1, 1)}: code {segment.get(3)}",
                    segment.get(2) or None,
                    int(component) if component.isdigit() else None,
                    int(repetition) if repetition.isdigit() else None,
                    segment.get(4) or None,
                )
            )
        elif segment.id == "AK5" and current is not None:
            close_segment()
            codes = tuple(segment.get(n) for n in range(2, 7) if segment.get(n))
            sets.append(SetAck(current[0], current[1], segment.get(1), codes, tuple(errors)))
            current = None

    def number(value: str) -> int:
        return int(value) if value.isdigit() else 0

    return FunctionalAck(
        ak1.get(1),
        ak1.get(2),
        ak9.get(1),
        number(ak9.get(2)),
        number(ak9.get(3)),
        number(ak9.get(4)),
        tuple(ak9.get(n) for n in range(5, 10) if ak9.get(n)),
        tuple(sets),
    )


@dataclass(frozen=True, slots=True)
class InterchangeAck:
    """A partner's TA1 on one of our interchanges."""

    control_number: str
    status: str
    note_code: str

    @property
    def accepted(self) -> bool:
        """Accepted (``A``) or accepted with errors (``E``)."""
        return self.status in ("A", "E")


def read_ta1(segment: Segment) -> InterchangeAck:
    """Read an inbound TA1 segment."""
    if segment.id != "TA1":
        raise X12Error(f"{segment.id} is not a TA1")
    return InterchangeAck(segment.get(1), segment.get(4), segment.get(5))
