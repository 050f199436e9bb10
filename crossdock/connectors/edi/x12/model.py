"""The parsed shape of X12: segments, transaction sets, functional groups, interchanges, and the
results of validating them (the material of 997 AK3/AK4/AK5/AK9 and TA1 note codes).

Element values are kept as text, exactly as sent: a simple element is a ``str``, a composite a
:class:`Composite` (its components), a repeated element (005010) a :class:`Repetition`. Trailers
(SE, GE, IEA) are not stored: the generator computes them, the parser checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from crossdock.errors import CrossdockError

__all__ = [
    "Composite",
    "Delimiters",
    "Element",
    "ElementError",
    "FunctionalGroup",
    "GroupReport",
    "Interchange",
    "InterchangeReport",
    "Repetition",
    "Segment",
    "SegmentError",
    "SetResult",
    "TransactionSet",
    "X12Error",
    "X12SyntaxError",
]


class X12Error(CrossdockError, ValueError):
    """X12 content that cannot be read or written (the message says which segment and rule)."""


class X12SyntaxError(X12Error):
    """An interchange whose envelope cannot be read at all (no usable ISA): answered by a TA1.

    `note_code` is the TA1 interchange note code (I18, e.g. ``"022"`` invalid control structure);
    `control_number` is ISA13 when it could be read, so that the TA1 can name the interchange.
    """

    def __init__(self, message: str, note_code: str, control_number: str | None = None) -> None:
        super().__init__(message)
        self.note_code = note_code
        self.control_number = control_number


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four separators of an interchange, as read from (or written into) its ISA.

    `repetition` is ``None`` before 005010 (ISA11 is then the standards identifier ``U``).
    `suffix` is written after each segment terminator (``"\\n"`` or ``"\\r\\n"`` for readable
    files, ``""`` for none); the parser accepts line breaks after terminators in any case.
    """

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = "^"
    suffix: str = "\n"

    def characters(self) -> tuple[str, ...]:
        """The separators data may not contain."""
        chars = [self.element, self.component, self.segment]
        if self.repetition is not None:
            chars.append(self.repetition)
        return tuple(chars)

    def check(self) -> None:
        """Raise :class:`X12Error` unless these are four distinct single characters that are not
        letters, digits or spaces (which would be read as data)."""
        chars = self.characters()
        for char in chars:
            if len(char) != 1 or char.isalnum() or char == " ":
                raise X12Error(f"delimiter {char!r} must be one character, not alphanumeric")
        if len(set(chars)) != len(chars):
            raise X12Error(f"delimiters {chars!r} must be distinct")
        if self.suffix.strip("\r\n"):
            raise X12Error("the suffix after a segment terminator may only be line breaks")


class Composite(tuple[str, ...]):
    """A composite element: its components, in order (trailing empty components dropped)."""

    __slots__ = ()


class Repetition(tuple["str | Composite", ...]):
    """A repeated element (005010 repetition separator): its occurrences, in order."""

    __slots__ = ()


Element = str | Composite | Repetition
"""One element of a segment."""


class Segment(NamedTuple):
    """One segment: its id (``"BEG"``) and its elements (``elements[0]`` is ``BEG01``).

    Trailing empty elements are not kept (X12 forbids sending them). A named tuple: the parser
    makes millions of them.
    """

    id: str
    elements: tuple[Element, ...] = ()

    @classmethod
    def of(cls, segment_id: str, *values: Element | None) -> Segment:
        """A segment from element values; ``None`` is an empty element, trailing ones dropped."""
        elements: list[Element] = ["" if value is None else value for value in values]
        while elements and elements[-1] == "":
            elements.pop()
        return cls(segment_id, tuple(elements))

    def get(self, position: int) -> str:
        """The simple value at 1-based `position` (``""`` when absent; a composite's first
        component; a repetition's first occurrence)."""
        if position < 1 or position > len(self.elements):
            return ""
        value = self.elements[position - 1]
        if value.__class__ is str:
            return value
        if isinstance(value, Repetition):
            value = value[0] if value else ""
        if isinstance(value, Composite):
            return value[0] if value else ""
        return value

    def component(self, position: int, component: int) -> str:
        """Component `component` (1-based) of the element at `position` (``""`` if absent)."""
        if position < 1 or position > len(self.elements):
            return ""
        value = self.elements[position - 1]
        if isinstance(value, Repetition):
            value = value[0] if value else ""
        if isinstance(value, Composite):
            return value[component - 1] if component <= len(value) else ""
        return value if component == 1 else ""


@dataclass(slots=True)
class TransactionSet:
    """One transaction set: its ST header and the segments between ST and SE.

    `result` holds what validation found when the set was parsed (not part of equality).
    """

    header: Segment
    segments: list[Segment]
    result: SetResult | None = field(default=None, compare=False, repr=False)

    @property
    def id(self) -> str:
        """The transaction set identifier (ST01: ``"850"``)."""
        return self.header.get(1)

    @property
    def control_number(self) -> str:
        """The transaction set control number (ST02)."""
        return self.header.get(2)

    def find(self, segment_id: str) -> Segment | None:
        """The first segment with this id, if any."""
        return next((segment for segment in self.segments if segment.id == segment_id), None)


@dataclass(slots=True)
class FunctionalGroup:
    """A functional group: its GS header and its transaction sets."""

    header: Segment
    sets: list[TransactionSet]
    report: GroupReport | None = field(default=None, compare=False, repr=False)

    @property
    def functional_id(self) -> str:
        """The functional identifier code (GS01: ``PO``, ``PR``, ``SH``, ``IN``, ``FA``)."""
        return self.header.get(1)

    @property
    def control_number(self) -> str:
        """The group control number (GS06)."""
        return self.header.get(6)

    @property
    def version(self) -> str:
        """The version/release code (GS08: ``004010``, ``005010``, maybe with a suffix)."""
        return self.header.get(8)


@dataclass(slots=True)
class Interchange:
    """An interchange: its ISA header (elements as sent, padded), delimiters, and groups.

    `ta1` holds TA1 segments the interchange carries (acknowledgements of interchanges).
    """

    header: Segment
    groups: list[FunctionalGroup]
    delimiters: Delimiters = field(default_factory=Delimiters, compare=False)
    ta1: list[Segment] = field(default_factory=list)
    report: InterchangeReport | None = field(default=None, compare=False, repr=False)

    @property
    def control_number(self) -> str:
        """The interchange control number (ISA13)."""
        return self.header.get(13)

    @property
    def sender(self) -> tuple[str, str]:
        """(qualifier, id) of the sender (ISA05, ISA06), id stripped of padding."""
        return self.header.get(5), self.header.get(6).strip()

    @property
    def receiver(self) -> tuple[str, str]:
        """(qualifier, id) of the receiver (ISA07, ISA08), id stripped of padding."""
        return self.header.get(7), self.header.get(8).strip()

    @property
    def version(self) -> str:
        """The interchange control version number (ISA12: ``00401``, ``00501``)."""
        return self.header.get(12)

    @property
    def test(self) -> bool:
        """Whether ISA15 says test data (``T``)."""
        return self.header.get(15) == "T"

    @property
    def ack_requested(self) -> bool:
        """Whether ISA14 asks for a TA1 (``1``)."""
        return self.header.get(14) == "1"


@dataclass(frozen=True, slots=True)
class ElementError:
    """An element in error: the AK4 of a 997.

    `position` is the element's position in the segment (1-based), `component` and `repetition`
    its component and occurrence (when relevant), `reference` the data element reference number
    (``"353"``), `code` the AK4 syntax error code (723: ``"1"`` mandatory missing, ``"4"`` too
    short, ``"5"`` too long, ``"6"`` invalid character, ``"7"`` invalid code value, ``"8"``
    invalid date, ``"9"`` invalid time, ``"3"`` too many elements, ``"12"`` too many
    repetitions, ``"13"`` too many components) and `data` a copy of the bad value.
    """

    position: int
    code: str
    message: str
    reference: str | None = None
    component: int | None = None
    repetition: int | None = None
    data: str | None = None


@dataclass(frozen=True, slots=True)
class SegmentError:
    """A segment in error: the AK3 of a 997, with its element errors (AK4).

    `position` counts segments from the ST (ST is 1), `code` is the AK3 segment syntax error code
    (720: ``"1"`` unrecognized segment, ``"2"`` unexpected, ``"3"`` mandatory missing, ``"4"``
    loop over maximum, ``"5"`` segment over maximum use, ``"7"`` not in proper sequence, ``"8"``
    has data element errors), `loop_id` the loop identifier the segment is in, if any.
    """

    position: int
    segment_id: str
    code: str
    message: str
    loop_id: str | None = None
    elements: tuple[ElementError, ...] = ()


@dataclass(frozen=True, slots=True)
class SetResult:
    """What validation found in one transaction set: the AK2/AK3/AK4/AK5 of a 997.

    `codes` are the AK5 transaction set syntax error codes (718: ``"1"`` set not supported,
    ``"2"`` trailer missing, ``"3"`` control number mismatch, ``"4"`` segment count mismatch,
    ``"5"`` one or more segments in error, ``"23"`` control number not unique in the group).
    """

    set_id: str
    control_number: str
    segment_errors: tuple[SegmentError, ...] = ()
    codes: tuple[str, ...] = ()
    convention: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether the set is accepted (no errors)."""
        return not self.codes and not self.segment_errors

    @property
    def status(self) -> Literal["A", "R"]:
        """AK501: ``A`` accepted, ``R`` rejected (any error rejects the set)."""
        return "A" if self.accepted else "R"


@dataclass(frozen=True, slots=True)
class GroupReport:
    """What validation found in one functional group: the AK1 and AK9 of a 997.

    `codes` are AK9 functional group syntax error codes (716: ``"3"`` trailer missing, ``"4"``
    control number mismatch, ``"5"`` number of sets does not match); `included` is GE01 as
    sent (``None`` if no GE).
    """

    functional_id: str
    control_number: str
    version: str
    sets: tuple[SetResult, ...]
    codes: tuple[str, ...] = ()
    included: int | None = None

    @property
    def accepted_count(self) -> int:
        """Number of accepted transaction sets."""
        return sum(1 for result in self.sets if result.accepted)

    @property
    def status(self) -> Literal["A", "E", "P", "R"]:
        """AK901: ``A`` all accepted, ``P`` partially accepted, ``R`` rejected (no set accepted
        or a group-level error)."""
        if self.codes:
            return "R"
        accepted = self.accepted_count
        if accepted == len(self.sets) and self.sets:
            return "A"
        return "P" if accepted else "R"


@dataclass(frozen=True, slots=True)
class InterchangeReport:
    """What was found in an interchange's envelope: the TA1 answer.

    `note_codes` are TA1 interchange note codes (I18: ``"001"`` control numbers in ISA and IEA
    do not match, ``"021"`` invalid number of included groups, ``"022"`` invalid control
    structure, ``"023"`` premature end of file, ``"024"`` invalid interchange content);
    empty when the envelope is sound.
    """

    control_number: str
    note_codes: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    included: int | None = None

    @property
    def accepted(self) -> bool:
        """Whether the envelope is sound."""
        return not self.note_codes
