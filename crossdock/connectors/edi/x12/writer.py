"""The X12 generator: interchanges to bytes, trailers computed, delimiters refused in data.

:func:`generate` writes an :class:`Interchange` (or several) with the given delimiters (the
interchange's own by default): the ISA with its fixed widths (ISA11 the repetition separator from
00403 on, ISA16 the component separator), any TA1, then each group and set, and the trailers SE
(segment count, control number), GE (set count) and IEA (group count) computed from the content.
A value that contains one of the delimiters is refused with :class:`X12Error` naming the segment
and element: X12 has no escape character, so the value cannot be sent with these delimiters.

The header builders (:func:`isa_header`, :func:`gs_header`, :func:`st_header`) make envelopes
from a partner's identifiers and the control numbers the caller allocates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import cache
from typing import BinaryIO

from crossdock.connectors.edi.x12.model import (
    Composite,
    Delimiters,
    Element,
    FunctionalGroup,
    Interchange,
    Repetition,
    Segment,
    TransactionSet,
    X12Error,
)
from crossdock.connectors.edi.x12.reader import ISA_WIDTHS

__all__ = [
    "encode_segment",
    "generate",
    "gs_header",
    "isa_header",
    "iter_generate",
    "st_header",
    "write",
]

# ISA elements padded with zeros on the left (numbers); the others with spaces on the right.
_ISA_NUMERIC = {13}


def encode_segment(segment: Segment, delimiters: Delimiters) -> str:
    """One segment as text, terminator and suffix included; refuses delimiters in data."""
    element = delimiters.element
    parts = [segment.id]
    for position, value in enumerate(segment.elements, start=1):
        parts.append(_encode_element(segment.id, position, value, delimiters))
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return element.join(parts) + delimiters.segment + delimiters.suffix


def _encode_element(segment_id: str, position: int, value: Element, delimiters: Delimiters) -> str:
    if isinstance(value, Repetition):
        if delimiters.repetition is None:
            raise X12Error(
                f"{segment_id}{position:02d} repeats, but this version has no repetition separator"
            )
        return delimiters.repetition.join(
            _encode_element(segment_id, position, item, delimiters) for item in value
        )
    if isinstance(value, Composite):
        components = list(value)
        while components and components[-1] == "":
            components.pop()
        for number, component in enumerate(components, start=1):
            _check(f"{segment_id}{position:02d}-{number:02d}", component, delimiters)
        return delimiters.component.join(components)
    _check(f"{segment_id}{position:02d}", value, delimiters)
    return value


@cache
def _forbidden(delimiters: Delimiters) -> re.Pattern[str]:
    return re.compile("[" + re.escape("".join(delimiters.characters()) + "\r\n") + "]")


def _check(name: str, value: str, delimiters: Delimiters) -> None:
    if _forbidden(delimiters).search(value) is None:
        return
    for char in delimiters.characters():
        if char in value:
            raise X12Error(
                f"{name} {value[:40]!r} contains the delimiter {char!r}: X12 has no escape, "
                "so it cannot be sent with these delimiters"
            )
    if "\r" in value or "\n" in value:
        raise X12Error(f"{name} {value[:40]!r} contains a line break")


def _isa(header: Segment, delimiters: Delimiters) -> str:
    values = [header.get(number) for number in range(1, 17)]
    version = values[11]
    if delimiters.repetition is not None and version.isdigit() and version >= "00403":
        values[10] = delimiters.repetition
    elif delimiters.repetition is not None and version < "00403":
        raise X12Error(f"ISA12 {version} has no repetition separator; use repetition=None")
    else:
        values[10] = values[10] or "U"
    values[15] = delimiters.component
    for number, (value, width) in enumerate(zip(values, ISA_WIDTHS, strict=True), start=1):
        if number in _ISA_NUMERIC:
            value = value.strip().zfill(width)
        elif number not in (11, 16):
            value = value.ljust(width)
        if len(value) != width:
            raise X12Error(f"ISA{number:02d} {value!r} does not fit its {width} characters")
        if number not in (11, 16):
            _check(f"ISA{number:02d}", value, delimiters)
        values[number - 1] = value
    return (
        "ISA"
        + delimiters.element
        + delimiters.element.join(values)
        + delimiters.segment
        + (delimiters.suffix)
    )


def iter_generate(interchange: Interchange, delimiters: Delimiters | None = None) -> Iterator[str]:
    """The interchange as text, segment by segment (for writing large ones out streamed)."""
    delims = delimiters or interchange.delimiters
    delims.check()
    yield _isa(interchange.header, delims)
    for ta1 in interchange.ta1:
        yield encode_segment(ta1, delims)
    for group in interchange.groups:
        yield from _group(group, delims)
    yield encode_segment(
        Segment("IEA", (str(len(interchange.groups)), interchange.header.get(13).strip().zfill(9))),
        delims,
    )


def _group(group: FunctionalGroup, delimiters: Delimiters) -> Iterator[str]:
    yield encode_segment(group.header, delimiters)
    for transaction_set in group.sets:
        yield from _set(transaction_set, delimiters)
    yield encode_segment(Segment("GE", (str(len(group.sets)), group.control_number)), delimiters)


def _set(transaction_set: TransactionSet, delimiters: Delimiters) -> Iterator[str]:
    yield encode_segment(transaction_set.header, delimiters)
    for segment in transaction_set.segments:
        if segment.id in ("ST", "SE", "GS", "GE", "ISA", "IEA"):
            raise X12Error(f"{segment.id} is an envelope segment, not content of a set")
        yield encode_segment(segment, delimiters)
    yield encode_segment(
        Segment("SE", (str(len(transaction_set.segments) + 2), transaction_set.control_number)),
        delimiters,
    )


def generate(
    interchanges: Interchange | Iterable[Interchange], delimiters: Delimiters | None = None
) -> bytes:
    """One or more interchanges as bytes (UTF-8), trailers computed."""
    items = [interchanges] if isinstance(interchanges, Interchange) else list(interchanges)
    return "".join(text for item in items for text in iter_generate(item, delimiters)).encode(
        "utf-8", errors="surrogateescape"
    )


def write(interchange: Interchange, sink: BinaryIO, delimiters: Delimiters | None = None) -> int:
    """Write the interchange to a binary file, segment by segment; return the bytes written."""
    written = 0
    for text in iter_generate(interchange, delimiters):
        written += sink.write(text.encode("utf-8", errors="surrogateescape"))
    return written


def isa_header(
    sender: tuple[str, str],
    receiver: tuple[str, str],
    control_number: int,
    *,
    version: str = "00501",
    test: bool = False,
    ack_requested: bool = False,
    when: datetime | None = None,
    authorization: tuple[str, str] = ("00", ""),
    security: tuple[str, str] = ("00", ""),
) -> Segment:
    """An ISA from (qualifier, id) pairs and the interchange control number (1 to 999999999).

    ISA11 and ISA16 are filled from the delimiters when written."""
    if not 0 < control_number <= 999_999_999:
        raise X12Error(f"interchange control number {control_number} is not in 1..999999999")
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    return Segment(
        "ISA",
        (
            authorization[0],
            authorization[1].ljust(10),
            security[0],
            security[1].ljust(10),
            sender[0],
            sender[1].ljust(15),
            receiver[0],
            receiver[1].ljust(15),
            moment.strftime("%y%m%d"),
            moment.strftime("%H%M"),
            "^" if version >= "00403" else "U",
            version,
            f"{control_number:09d}",
            "1" if ack_requested else "0",
            "T" if test else "P",
            ">",
        ),
    )


def gs_header(
    functional_id: str,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    *,
    version: str = "005010",
    when: datetime | None = None,
) -> Segment:
    """A GS: functional identifier (``PO``, ``PR``, ``SH``, ``IN``, ``FA``), application ids,
    group control number (1 to 999999999) and version (GS08, e.g. ``004010``)."""
    if not 0 < control_number <= 999_999_999:
        raise X12Error(f"group control number {control_number} is not in 1..999999999")
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    return Segment(
        "GS",
        (
            functional_id,
            sender_id,
            receiver_id,
            moment.strftime("%Y%m%d"),
            moment.strftime("%H%M"),
            str(control_number),
            "X",
            version,
        ),
    )


def st_header(set_id: str, control_number: int | str, convention: str | None = None) -> Segment:
    """An ST: set id (``"850"``), control number (at least 4 digits) and, for 005010, the
    implementation convention reference (ST03) if any."""
    control = str(control_number)
    if control.isdigit():
        control = control.zfill(4)
    return Segment.of("ST", set_id, control, convention)
