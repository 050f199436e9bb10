"""The streaming X12 parser: bytes in chunks → interchange, group and transaction set events.

The reader never holds more than one transaction set (plus one chunk) in memory: it decodes the
input incrementally, reads the delimiters from each ISA (an input may hold several interchanges
with different delimiters), splits segments and elements, and checks the envelopes as it goes —
ISA/IEA control numbers and group count, GS/GE control numbers and set count, ST/SE control
numbers and segment count — and each set against its declared spec. It yields events in order:

* :class:`InterchangeStart` (the ISA, delimiters), then per group :class:`GroupStart`, one
  :class:`SetRead` per transaction set (with its :class:`SetResult`), :class:`GroupEnd` (with the
  :class:`GroupReport` a 997 answers), and :class:`InterchangeEnd` (with the
  :class:`InterchangeReport` a TA1 answers). TA1 segments in an interchange come as
  :class:`TA1Read`.

An input whose ISA cannot be read at all raises :class:`X12SyntaxError` with the TA1 note code.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import BinaryIO

from crossdock.connectors.edi.x12.model import (
    Composite,
    Delimiters,
    Element,
    FunctionalGroup,
    GroupReport,
    Interchange,
    InterchangeReport,
    Repetition,
    Segment,
    SegmentError,
    SetResult,
    TransactionSet,
    X12SyntaxError,
)
from crossdock.connectors.edi.x12.sets import SPECS
from crossdock.connectors.edi.x12.spec import SetSpec, validate

__all__ = [
    "CHUNK_SIZE",
    "Event",
    "GroupEnd",
    "GroupStart",
    "InterchangeEnd",
    "InterchangeStart",
    "SetRead",
    "Source",
    "TA1Read",
    "chunks",
    "load",
    "parse",
    "read_isa",
]

CHUNK_SIZE = 1 << 16
"""Bytes read at a time from a file."""

ISA_LENGTH = 106
"""Length of an ISA segment, terminator included: its elements have fixed widths."""

# Fixed widths of ISA01..ISA16 and the TA1 note code (I18) for a bad value of each.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
ISA_NOTE_CODES = (
    "010",
    "011",
    "012",
    "013",
    "005",
    "006",
    "007",
    "008",
    "014",
    "015",
    "016",
    "017",
    "018",
    "019",
    "020",
    "027",
)
MAX_MESSAGES = 20
"""Envelope problems described per interchange (the note codes are always complete)."""

SUPPORTED_VERSIONS = ("004010", "005010")
"""GS08 versions whose sets are validated (a suffix such as ``X098`` is allowed)."""

Source = bytes | bytearray | memoryview | str | Path | BinaryIO | Iterable[bytes]
"""What the parser reads: bytes, a path, a binary file, or an iterable of byte chunks."""


@dataclass(frozen=True, slots=True)
class InterchangeStart:
    """An ISA was read: the interchange's header and delimiters (its `groups` stay empty)."""

    interchange: Interchange


@dataclass(frozen=True, slots=True)
class GroupStart:
    """A GS was read (the group's `sets` stay empty)."""

    group: FunctionalGroup


@dataclass(frozen=True, slots=True)
class SetRead:
    """A transaction set was read and validated: `transaction_set.result` says how it went."""

    transaction_set: TransactionSet

    @property
    def result(self) -> SetResult:
        """The set's validation result."""
        assert self.transaction_set.result is not None
        return self.transaction_set.result


@dataclass(frozen=True, slots=True)
class GroupEnd:
    """A group ended (GE, or the interchange ended without one): its report for the 997."""

    group: FunctionalGroup
    report: GroupReport


@dataclass(frozen=True, slots=True)
class TA1Read:
    """A TA1 segment (interchange acknowledgement) inside an interchange."""

    segment: Segment


@dataclass(frozen=True, slots=True)
class InterchangeEnd:
    """An interchange ended (IEA, or end of input): its envelope report for a TA1."""

    interchange: Interchange
    report: InterchangeReport


Event = InterchangeStart | GroupStart | SetRead | GroupEnd | TA1Read | InterchangeEnd
"""What :func:`parse` yields."""


def chunks(source: Source, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The bytes of `source` in chunks: bytes as they are, a path or binary file read by `size`,
    an iterable of chunks passed through."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield bytes(source)
    elif isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            yield from iter(lambda: handle.read(size), b"")
    elif hasattr(source, "read"):
        reader: BinaryIO = source  # type: ignore[assignment]
        yield from iter(lambda: reader.read(size), b"")
    else:
        for chunk in source:
            yield bytes(chunk)


def read_isa(text: str) -> tuple[Segment, Delimiters, int]:
    """Read the ISA at the start of `text`: (segment, delimiters, characters used).

    The element separator is the character after ``ISA``; the component separator is ISA16 and
    the segment terminator the character after it; from 00403 on ISA11 is the repetition
    separator. Raises :class:`X12SyntaxError` (with the TA1 note code) when the ISA is not 16
    elements of their fixed widths.
    """
    if not text.startswith("ISA") or len(text) < 4:
        raise X12SyntaxError(f"input does not start with an ISA segment: {text[:20]!r}", "022")
    separator = text[3]
    if separator.isalnum() or separator in " \r\n":
        raise X12SyntaxError(f"invalid element separator {separator!r} after ISA", "026")
    parts = text[: ISA_LENGTH * 2].split(separator, 16)
    if len(parts) < 17 or len(parts[16]) < 2:
        raise X12SyntaxError("ISA does not have 16 elements", "022", _isa13(parts))
    component, terminator = parts[16][0], parts[16][1]
    values = [*parts[1:16], component]
    used = 3 + sum(len(value) + 1 for value in values) + 1
    control = _isa13(parts)
    for number, (value, width) in enumerate(zip(values, ISA_WIDTHS, strict=True)):
        if len(value) != width:
            raise X12SyntaxError(
                f"ISA{number + 1:02d} is {len(value)} characters long, must be {width} "
                f"(ISA is {used} characters, must be {ISA_LENGTH})",
                ISA_NOTE_CODES[number],
                control,
            )
    if terminator.isalnum() or terminator in (separator, component, " "):
        raise X12SyntaxError(f"invalid segment terminator {terminator!r}", "004", control)
    if component.isalnum() or component in (separator, " "):
        raise X12SyntaxError(f"invalid component separator {component!r}", "027", control)
    version = values[11]
    repetition: str | None = None
    if version.isdigit() and version >= "00403":
        repetition = values[10]
        if repetition.isalnum() or repetition in (separator, component, terminator, " "):
            raise X12SyntaxError(f"invalid repetition separator {repetition!r}", "026", control)
    if not control.isdigit():
        raise X12SyntaxError(f"ISA13 {control!r} is not a number", "018", control)
    if not version.isdigit():
        raise X12SyntaxError(f"ISA12 {version!r} is not a version number", "017", control)
    suffix = ""
    rest = text[used : used + 2]
    if rest.startswith("\r\n"):
        suffix = "\r\n"
    elif rest.startswith("\n"):
        suffix = "\n"
    delimiters = Delimiters(separator, component, terminator, repetition, suffix)
    return Segment("ISA", tuple(values)), delimiters, used


def _has_layout(parts: list[str], terminator: str) -> bool:
    """Whether any segment text starts with a line break or indentation."""
    if not parts:
        return False
    text = terminator.join(parts)
    return (
        "\n" in text
        or "\r" in text
        or terminator + " " in text
        or terminator + "\t" in text
        or text[:1] in (" ", "\t")
    )


def _isa_complete(text: str) -> bool:
    """Whether `text` holds a whole ISA (and the two characters after it), or is long enough
    that a missing one is an error rather than a short read."""
    if len(text) >= ISA_LENGTH * 2:
        return True
    if len(text) < 4:
        return False
    parts = text.split(text[3], 16)
    return len(parts) == 17 and len(parts[16]) >= 4


def _isa13(parts: list[str]) -> str:
    return parts[13].strip() if len(parts) > 13 else ""


ENVELOPE_IDS = ("SE", "ST", "GS", "GE", "IEA", "ISA", "TA1")
"""Segments the reader acts on; inside a set, any other is content."""


def _segments(
    raws: Iterable[str], delimiters: Delimiters, plain: bool | None = None
) -> list[Segment]:
    """Segments from their texts (terminator and layout removed). `plain` says whether the
    texts are known to hold no component or repetition separator (None: not known, looked
    for here)."""
    element, component, repetition = (
        delimiters.element,
        delimiters.component,
        delimiters.repetition,
    )
    new = tuple.__new__
    texts = raws if isinstance(raws, list) else list(raws)
    if plain is None:
        joined = "".join(texts)
        plain = component not in joined and (repetition is None or repetition not in joined)
    if plain:
        # Every element is simple text. The whole pipeline runs through map, with no Python
        # frame per segment: each split's first value is popped as the id (zip takes it
        # before the tuple of the rest is made), and both become a Segment.
        splits = list(map(str.split, texts, repeat(element)))
        ids = map(list.pop, splits, repeat(0))
        return list(map(new, repeat(Segment), zip(ids, map(tuple, splits), strict=True)))
    segments: list[Segment] = []
    append = segments.append
    for raw in texts:
        values = raw.split(element)
        if component in raw or (repetition is not None and repetition in raw):
            append(
                new(
                    Segment,
                    (values[0], tuple(_structure(v, component, repetition) for v in values[1:])),
                )
            )
        else:
            append(new(Segment, (values[0], tuple(values[1:]))))
    return segments


def _structure(value: str, component: str, repetition: str | None) -> Element:
    if repetition is not None and repetition in value:
        return Repetition(
            Composite(part.split(component)) if component in part else part
            for part in value.split(repetition)
        )
    if component in value:
        return Composite(value.split(component))
    return value


def parse(
    source: Source,
    *,
    specs: Mapping[str, SetSpec] | None = None,
    validate_sets: bool = True,
) -> Iterator[Event]:
    """Read interchanges from `source`, streaming, and yield their events in order.

    `specs` maps transaction set ids to their specs (default :data:`~.sets.SPECS`; give a
    partner's variations here); a set without a spec is rejected (AK5 code 1). With
    `validate_sets` false only the envelopes are checked (sets come with empty results).
    """
    state = _State(SPECS if specs is None else specs, validate_sets)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    pending = ""
    for chunk in chunks(source):
        pending += decoder.decode(chunk)
        pending = yield from state.feed(pending, final=False)
    pending += decoder.decode(b"", final=True)
    pending = yield from state.feed(pending, final=True)
    yield from state.finish(pending)


class _State:
    """The parser's position: which envelope is open, and the set being collected."""

    def __init__(self, specs: Mapping[str, SetSpec], validate_sets: bool) -> None:
        self.specs = specs
        self.validate_sets = validate_sets
        self.delimiters: Delimiters | None = None
        self.interchange: Interchange | None = None
        self.group: FunctionalGroup | None = None
        self.set_header: Segment | None = None
        self.set_raw: list[str] | None = None
        # Whether the set's texts so far hold no component or repetition separator (None: not
        # known).
        self.set_plain: bool | None = None
        self.prefixes: tuple[str, ...] = ()
        self.envelope_pattern: re.Pattern[str] | None = None
        self.group_results: list[SetResult] = []
        self.group_controls: set[str] = set()
        self.group_count = 0
        self.group_version = ""
        self.notes: list[str] = []
        self.messages: list[str] = []

    def feed(self, pending: str, *, final: bool) -> Generator[Event, None, str]:
        """Consume complete segments of `pending`; return what is left (an incomplete one)."""
        while True:
            if self.delimiters is None:
                stripped = pending.lstrip(" \t\r\n\x00")
                if not stripped:
                    return ""
                if not final and not _isa_complete(stripped):
                    return stripped
                segment, delimiters, used = read_isa(stripped)
                self.delimiters = delimiters
                self.start_interchange(segment, delimiters)
                yield InterchangeStart(self.interchange)  # type: ignore[arg-type]
                pending = stripped[used:]
                continue
            delimiters = self.delimiters
            terminator = delimiters.segment
            if delimiters.suffix and terminator not in "\r\n":
                # The interchange is laid out in lines; X12 data holds no line break, so every
                # one is layout, wherever the translator put it (after each terminator, or
                # wrapping long lines).
                for line_break in delimiters.suffix:
                    pending = pending.replace(line_break, "")
            last = pending.rfind(terminator)
            if last < 0:
                return pending
            complete, pending = pending[:last], pending[last + 1 :]
            starts = self.envelope_starts(complete) if terminator != "\n" else None
            if starts is not None:
                # Without layout, only envelope segments need a look of their own: found by
                # one scan, the content between them is split and kept in bulk.
                pending, restart = yield from self.scan(complete, pending, starts)
                if restart:
                    continue
                return pending
            parts = complete.split(terminator)
            # Line breaks and indentation between segments are layout, not data.
            if terminator == "\n":
                parts = [part.lstrip(" \t\r\n").rstrip("\r") for part in parts]
            elif _has_layout(parts, terminator):
                parts = [part.lstrip(" \t\r\n") for part in parts]
            prefixes = self.prefixes
            collecting = self.set_raw
            for index, raw in enumerate(parts):
                # Inside a set, content is kept as text until its SE: the segments are made
                # in one pass when the set is complete.
                if collecting is not None and not raw.startswith(prefixes):
                    if raw:
                        collecting.append(raw)
                        if self.set_plain:
                            self.set_plain = None  # not looked at: looked for at the set's end
                    continue
                if not raw:
                    continue
                segment = self.segment(raw)
                if self.set_raw is not None and segment.id != "SE":
                    yield self.end_set(None)
                yield from self.envelope(segment)
                collecting = self.set_raw
                if self.delimiters is None:
                    # IEA ended the interchange: what follows may use other delimiters.
                    rest = [*parts[index + 1 :], pending]
                    pending = terminator.join(rest)
                    break
            else:
                return pending

    def envelope_starts(self, complete: str) -> list[int] | None:
        """Where the envelope segments of `complete` start, or None when it has layout (line
        breaks, or indentation after a terminator): one pass of the envelope pattern finds
        both."""
        assert self.envelope_pattern is not None
        if "\n" in complete or "\r" in complete or complete[:1] in (" ", "\t"):
            return None
        matches = list(self.envelope_pattern.finditer(complete))
        if any(match.lastgroup == "layout" for match in matches):
            return None
        starts = [match.start() + 1 for match in matches]
        if complete.startswith(self.prefixes):
            starts.insert(0, 0)
        return starts

    def scan(
        self, complete: str, pending: str, starts: list[int]
    ) -> Generator[Event, None, tuple[str, bool]]:
        """Read the complete segments of `complete` (no layout in it; its envelope segments
        start at `starts`): (pending, restart) — restart when an IEA ended the interchange and
        the rest must be read afresh."""
        delimiters = self.delimiters
        assert delimiters is not None
        terminator = delimiters.segment
        position = 0
        for start in starts:
            if start > position:
                self.content(complete[position : start - 1], terminator)
            end = complete.find(terminator, start)
            if end < 0:
                end = len(complete)
            segment = self.segment(complete[start:end])
            position = end + 1
            segment_id = segment.id
            # The envelopes of every set, ST and SE in an open group, are read here directly.
            if segment_id == "SE" and self.set_raw is not None:
                yield self.end_set(segment)
                continue
            if segment_id == "ST" and self.set_raw is None and self.group is not None:
                self.set_header = segment
                self.set_raw = []
                self.set_plain = True
                continue
            if self.set_raw is not None and segment_id != "SE":
                yield self.end_set(None)
            yield from self.envelope(segment)
            if self.delimiters is None:
                if position <= len(complete):
                    pending = complete[position:] + terminator + pending
                return pending, True
        if position <= len(complete):
            self.content(complete[position:], terminator)
        return pending, False

    def content(self, text: str, terminator: str) -> None:
        """Segments that are not envelopes: a set's content, or misplaced."""
        if not text:
            return
        parts = text.split(terminator)
        if "" in parts:
            parts = [part for part in parts if part]
        if self.set_raw is not None:
            self.set_raw.extend(parts)
            if self.set_plain:
                delimiters = self.delimiters
                assert delimiters is not None
                repetition = delimiters.repetition
                self.set_plain = delimiters.component not in text and (
                    repetition is None or repetition not in text
                )
            return
        for part in parts:
            self.note("024", f"{part[:3]} outside a transaction set")

    def segment(self, raw: str) -> Segment:
        """One segment from its text."""
        delimiters = self.delimiters
        assert delimiters is not None
        if delimiters.component in raw or (
            delimiters.repetition is not None and delimiters.repetition in raw
        ):
            return _segments([raw], delimiters, False)[0]
        values = raw.split(delimiters.element)
        return tuple.__new__(Segment, (values[0], tuple(values[1:])))

    def start_interchange(self, segment: Segment, delimiters: Delimiters) -> None:
        self.interchange = Interchange(segment, [], delimiters)
        self.prefixes = tuple(name + delimiters.element for name in ENVELOPE_IDS)
        # A literal first character lets the regular expression engine skip ahead fast. The
        # same pass finds layout after a terminator (a blank or tab: the reader then strips).
        self.envelope_pattern = re.compile(
            rf"{re.escape(delimiters.segment)}"
            rf"(?:(?:{'|'.join(ENVELOPE_IDS)}){re.escape(delimiters.element)}|(?P<layout>[ \t]))"
        )
        self.group_count = 0
        self.notes = []
        self.messages = []

    def note(self, code: str, message: str) -> None:
        if code not in self.notes:
            self.notes.append(code)
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(message)

    def envelope(self, segment: Segment) -> Iterator[Event]:
        segment_id = segment.id
        if segment_id == "SE":
            if self.set_header is None:
                self.note("024", "SE without ST")
            else:
                yield self.end_set(segment)
        elif segment_id == "ST":
            if self.group is None:
                self.note("024", "ST outside a functional group")
                self.group = FunctionalGroup(Segment("GS"), [])
                self.start_group_state()
                yield GroupStart(self.group)
            self.set_header = segment
            self.set_raw = []
            self.set_plain = True
        elif segment_id == "GS":
            if self.group is not None:
                yield from self.end_group(None)
            self.group = FunctionalGroup(segment, [])
            self.group_count += 1
            self.start_group_state()
            yield GroupStart(self.group)
        elif segment_id == "GE":
            if self.group is None:
                self.note("024", "GE without GS")
            else:
                yield from self.end_group(segment)
        elif segment_id == "TA1":
            yield TA1Read(segment)
        elif segment_id == "IEA":
            yield from self.end_interchange(segment)
        elif segment_id == "ISA":
            self.note("023", "ISA before the IEA of the previous interchange")
            yield from self.end_interchange(None)
        else:
            self.note("024", f"{segment_id} outside a transaction set")

    def start_group_state(self) -> None:
        assert self.group is not None
        self.group_version = self.group.version
        self.group_results = []
        self.group_controls = set()

    def end_set(self, trailer: Segment | None) -> SetRead:
        header = self.set_header
        assert header is not None
        assert self.set_raw is not None and self.delimiters is not None
        segments = _segments(self.set_raw, self.delimiters, self.set_plain)
        self.set_header = None
        self.set_raw = None
        set_id, control = header.get(1), header.get(2)
        codes: list[str] = []
        if trailer is None:
            codes.append("2")
        else:
            if trailer.get(2) != control:
                codes.append("3")
            if trailer.get(1) != str(len(segments) + 2):
                codes.append("4")
        if not control:
            codes.append("7")
        elif control in self.group_controls:
            codes.append("23")
        self.group_controls.add(control)
        spec = self.specs.get(set_id)
        errors: tuple[SegmentError, ...] = ()
        version = self.group_version
        if spec is None:
            codes.insert(0, "1" if set_id else "6")
        elif self.validate_sets and version[:6] in SUPPORTED_VERSIONS:
            errors = tuple(validate(segments, spec))
            if errors:
                codes.append("5")
        header_convention = header.get(3) or None
        result = SetResult(set_id, control, errors, tuple(codes), header_convention)
        transaction_set = TransactionSet(header, segments, result)
        self.group_results.append(result)
        return SetRead(transaction_set)

    def end_group(self, trailer: Segment | None) -> Iterator[Event]:
        group = self.group
        assert group is not None
        self.group = None
        codes: list[str] = []
        included: int | None = None
        if not group.header.elements:
            codes.append("3")
        if group.header.elements and group.version[:6] not in SUPPORTED_VERSIONS:
            codes.append("2")
        if trailer is None:
            codes.append("3")
        else:
            if trailer.get(2) != group.control_number:
                codes.append("4")
            count = trailer.get(1)
            included = int(count) if count.isdigit() else None
            if included != len(self.group_results):
                codes.append("5")
        if group.header.elements and not group.control_number.isdigit():
            codes.append("6")
        report = GroupReport(
            group.functional_id,
            group.control_number,
            group.version,
            tuple(self.group_results),
            tuple(dict.fromkeys(codes)),
            included,
        )
        group.report = report
        self.group_results = []
        yield GroupEnd(group, report)

    def end_interchange(self, trailer: Segment | None) -> Iterator[Event]:
        interchange = self.interchange
        assert interchange is not None
        if self.set_header is not None:
            yield self.end_set(None)
        if self.group is not None:
            yield from self.end_group(None)
        included: int | None = None
        if trailer is None:
            self.note("023", "interchange ends without IEA")
        else:
            if trailer.get(2) != interchange.control_number:
                self.note(
                    "001",
                    f"IEA02 {trailer.get(2)!r} does not match ISA13 {interchange.control_number!r}",
                )
            count = trailer.get(1)
            included = int(count) if count.isdigit() else None
            if included != self.group_count:
                self.note("021", f"IEA01 says {count!r} groups, {self.group_count} were read")
        report = InterchangeReport(
            interchange.control_number, tuple(self.notes), tuple(self.messages), included
        )
        interchange.report = report
        self.interchange = None
        self.delimiters = None
        yield InterchangeEnd(interchange, report)

    def finish(self, pending: str) -> Iterator[Event]:
        """End of input: anything still open ends without its trailer."""
        if self.delimiters is None:
            if pending.strip(" \t\r\n\x00"):
                raise X12SyntaxError("data after the last IEA is not an interchange", "022")
            return
        rest = pending.strip("\r\n \t\x00")
        if rest:
            # A last segment without its terminator.
            yield from self.envelope_or_set(rest)
        if self.interchange is not None:
            yield from self.end_interchange(None)

    def envelope_or_set(self, raw: str) -> Iterator[Event]:
        delimiters = self.delimiters
        assert delimiters is not None
        if self.set_raw is not None and not raw.startswith(self.prefixes):
            self.set_raw.append(raw)
            if self.set_plain:
                self.set_plain = None
            return
        segment = self.segment(raw)
        if self.set_raw is not None and segment.id != "SE":
            yield self.end_set(None)
        yield from self.envelope(segment)


def load(
    source: Source,
    *,
    specs: Mapping[str, SetSpec] | None = None,
    validate_sets: bool = True,
) -> list[Interchange]:
    """Parse `source` whole into interchanges with their groups and sets (each with its
    report/result). For files of ordinary size; :func:`parse` streams any size."""
    interchanges: list[Interchange] = []
    for event in parse(source, specs=specs, validate_sets=validate_sets):
        if isinstance(event, InterchangeStart):
            interchanges.append(event.interchange)
        elif isinstance(event, GroupStart):
            interchanges[-1].groups.append(event.group)
        elif isinstance(event, SetRead):
            interchanges[-1].groups[-1].sets.append(event.transaction_set)
        elif isinstance(event, TA1Read):
            interchanges[-1].ta1.append(event.segment)
    return interchanges
