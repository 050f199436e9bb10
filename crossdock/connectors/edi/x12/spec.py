"""Declarative transaction set definitions and the validator that checks a set against one.

A set is data: a :class:`SetSpec` lists its segments (:class:`Use`) and loops (:class:`Loop`) in
order, each with its requirement (``M``/``O``) and maximum use; the segments' elements come from a
segment dictionary (:class:`SegmentSpec`, :class:`ElementSpec`: reference number, type ``AN``,
``ID``, ``N0``-``N9``, ``R``, ``DT``, ``TM``, min/max length, requirement, code list) with the
segment's syntax rules (``P0102`` paired, ``R0203`` at least one, ``C0405`` conditional, ``E0102``
exclusive, ``L010203`` list conditional). A partner's variation is a modified copy made with
:func:`vary` — tighter or looser requirements, other code lists, more repeats, extra segments —
never code.

:func:`validate` walks a set's segments against its spec and returns the
:class:`~crossdock.connectors.edi.x12.model.SegmentError` list that becomes the 997's AK3/AK4.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Literal

from crossdock.connectors.edi.x12.model import (
    Composite,
    Element,
    ElementError,
    Repetition,
    Segment,
    SegmentError,
    X12Error,
)

__all__ = [
    "ElementSpec",
    "ElementType",
    "Loop",
    "Requirement",
    "SegmentSpec",
    "SetSpec",
    "Use",
    "check_element",
    "validate",
    "vary",
]

Requirement = Literal["M", "O", "X"]
"""Mandatory, optional, or conditional (``X``: required or forbidden by a syntax rule)."""

ElementType = Literal["AN", "ID", "N0", "N1", "N2", "N3", "N4", "N6", "R", "DT", "TM", "B"]
"""X12 data element types: ``Nn`` numeric with n implied decimals, ``R`` decimal."""

_NUMERIC = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:E-?[0-9]+)?")
_TIME = re.compile(r"([01][0-9]|2[0-3])[0-5][0-9](?:[0-5][0-9](?:[0-9]{1,2})?)?")
# Control characters other than the tab are not in the X12 basic or extended character sets.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """One element (or one component of a composite) of a segment.

    `components` makes it a composite (``C040``): its own element specs, by position.
    `codes` is the code list used (``None``: any value of the right length).
    """

    ref: str
    type: ElementType | Literal["C"] = "AN"
    min: int = 1
    max: int = 80
    req: Requirement = "O"
    codes: frozenset[str] | None = None
    name: str = ""
    components: tuple[ElementSpec, ...] = ()
    repeat: int = 1


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """A segment of the dictionary: its elements by position and its syntax rules."""

    id: str
    elements: tuple[ElementSpec, ...]
    rules: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class Use:
    """A segment used in a set (or loop) at this place: requirement and maximum use."""

    id: str
    req: Requirement = "O"
    max: int = 1


@dataclass(frozen=True, slots=True)
class Loop:
    """A loop: started by its first segment (`body[0]`), repeated at most `max` times."""

    id: str
    body: tuple[Use | Loop, ...]
    req: Requirement = "O"
    max: int = 1

    @property
    def trigger(self) -> str:
        """The segment id that starts an occurrence of the loop."""
        first = self.body[0]
        return first.id if isinstance(first, Use) else first.trigger


@dataclass(frozen=True, slots=True)
class SetSpec:
    """A transaction set: its id, functional group, body (between ST and SE) and dictionary."""

    id: str
    name: str
    functional_id: str
    body: tuple[Use | Loop, ...]
    segments: Mapping[str, SegmentSpec]
    hierarchical: bool = False
    ids: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", frozenset(_ids(self.body)))
        missing = sorted(self.ids - set(self.segments))
        if missing:
            raise X12Error(f"set {self.id} uses segments without definition: {missing}")


def _ids(body: Iterable[Use | Loop]) -> Iterable[str]:
    for node in body:
        if isinstance(node, Use):
            yield node.id
        else:
            yield from _ids(node.body)


# -- partner variations --------------------------------------------------------------------------


def vary(
    spec: SetSpec,
    *,
    elements: Mapping[str, Mapping[str, object]] | None = None,
    uses: Mapping[str, Mapping[str, object]] | None = None,
    segments: Mapping[str, SegmentSpec] | None = None,
    insert: Mapping[str, Use | Loop] | None = None,
) -> SetSpec:
    """A partner's variation of `spec`, as data.

    * `elements`: ``{"BEG05": {"req": "O"}, "N101": {"codes": ["ST", "BT", "Z7"]}}`` changes
      fields of an element spec (``req``, ``min``, ``max``, ``codes``, ``type``); a component is
      named ``"REF04-01"``.
    * `uses`: ``{"N1": {"max": 500}, "PO1": {"req": "M"}}`` changes requirement or maximum use of
      every use (or loop) with that id.
    * `segments`: new or replaced segment definitions.
    * `insert`: ``{"after:PER": Use("NTE", "O", 10)}`` places a new use after the node with
      that id (``"before:ID"`` too), in whichever loop it is.
    """
    dictionary = dict(spec.segments)
    dictionary.update(segments or {})
    for name, changes in (elements or {}).items():
        segment_id, position, component = _element_name(name)
        if segment_id not in dictionary:
            raise X12Error(f"vary: no segment {segment_id} in set {spec.id}")
        segment = dictionary[segment_id]
        items = list(segment.elements)
        if position > len(items):
            raise X12Error(f"vary: {segment_id} has no element {position}")
        target = items[position - 1]
        fixed = _fix_changes(name, changes)
        if component is None:
            items[position - 1] = replace(target, **fixed)  # type: ignore[arg-type]
        else:
            parts = list(target.components)
            if component > len(parts):
                raise X12Error(f"vary: {name} is not a component of {segment_id}")
            parts[component - 1] = replace(parts[component - 1], **fixed)  # type: ignore[arg-type]
            items[position - 1] = replace(target, components=tuple(parts))
        dictionary[segment_id] = replace(segment, elements=tuple(items))
    pending = dict(insert or {})
    body = _vary_body(spec.body, uses or {}, pending)
    if pending:
        raise X12Error(f"vary: no place {sorted(pending)} in set {spec.id}")
    return SetSpec(spec.id, spec.name, spec.functional_id, body, dictionary, spec.hierarchical)


def _fix_changes(name: str, changes: Mapping[str, object]) -> dict[str, object]:
    allowed = {"req", "min", "max", "codes", "type", "name", "repeat"}
    unknown = set(changes) - allowed
    if unknown:
        raise X12Error(f"vary: {name} cannot change {sorted(unknown)}")
    fixed = dict(changes)
    if "codes" in fixed and fixed["codes"] is not None:
        fixed["codes"] = frozenset(str(code) for code in fixed["codes"])  # type: ignore[attr-defined]
    return fixed


def _element_name(name: str) -> tuple[str, int, int | None]:
    match = re.fullmatch(r"([A-Z][A-Z0-9]{1,2}?)([0-9]{2})(?:-([0-9]{2}))?", name)
    if match is None:
        raise X12Error(f"vary: {name!r} is not an element name such as BEG03 or REF04-01")
    component = int(match.group(3)) if match.group(3) else None
    return match.group(1), int(match.group(2)), component


def _vary_body(
    body: tuple[Use | Loop, ...],
    uses: Mapping[str, Mapping[str, object]],
    insert: dict[str, Use | Loop],
) -> tuple[Use | Loop, ...]:
    result: list[Use | Loop] = []
    for node in body:
        # An insertion applies once, at the outermost match (a loop before its trigger).
        before = insert.pop(f"before:{node.id}", None)
        after = insert.pop(f"after:{node.id}", None)
        if isinstance(node, Loop):
            node = replace(node, body=_vary_body(node.body, uses, insert))
        changes = uses.get(node.id)
        if changes:
            node = replace(node, **{key: changes[key] for key in changes})  # type: ignore[arg-type]
        if before is not None:
            result.append(before)
        result.append(node)
        if after is not None:
            result.append(after)
    return tuple(result)


# -- element checks ------------------------------------------------------------------------------


def check_element(value: str, spec: ElementSpec) -> tuple[str, str] | None:
    """``(AK4 code, message)`` when the simple value breaks its spec, else ``None``."""
    kind = spec.type
    if _CONTROL.search(value):
        return "6", "invalid character"
    if kind == "AN":
        length = len(value.rstrip(" ")) or len(value)
    elif kind == "ID":
        length = len(value)
    elif kind == "R":
        if not _DECIMAL.fullmatch(value):
            return "6", f"{value!r} is not a decimal number"
        length = sum(1 for char in value if char.isdigit())
    elif kind == "DT":
        if not _valid_date(value):
            return "8", f"{value!r} is not a date (CCYYMMDD)"
        length = len(value)
    elif kind == "TM":
        if not _TIME.fullmatch(value):
            return "9", f"{value!r} is not a time (HHMM[SS[dd]])"
        length = len(value)
    elif kind.startswith("N"):
        if not _NUMERIC.fullmatch(value):
            return "6", f"{value!r} is not numeric"
        length = len(value.lstrip("-"))
    else:
        length = len(value)
    if length < spec.min:
        return "4", f"shorter than {spec.min}"
    if length > spec.max:
        return "5", f"longer than {spec.max}"
    if spec.codes is not None and value not in spec.codes:
        return "7", f"{value!r} is not a valid code"
    return None


@lru_cache(maxsize=4096)
def _valid_date(value: str) -> bool:
    if len(value) not in (6, 8) or not value.isdigit():
        return False
    year = int(value[:-4]) if len(value) == 8 else 2000 + int(value[:2])
    try:
        date(year, int(value[-4:-2]), int(value[-2:]))
    except ValueError:
        return False
    return True


def _present(value: Element | None) -> bool:
    if value is None:
        return False
    if isinstance(value, tuple):
        return any(_present(part) for part in value)
    return value.strip(" ") != ""


def _segment_errors(segment: Segment, spec: SegmentSpec) -> list[ElementError]:
    errors: list[ElementError] = []
    elements = segment.elements
    if len(elements) > len(spec.elements):
        errors.append(
            ElementError(
                len(spec.elements) + 1,
                "3",
                f"{segment.id} has {len(elements)} elements, at most {len(spec.elements)}",
            )
        )
    for position, element_spec in enumerate(spec.elements, start=1):
        value = elements[position - 1] if position <= len(elements) else None
        if not _present(value):
            if element_spec.req == "M":
                errors.append(
                    ElementError(
                        position,
                        "1",
                        f"{segment.id}{position:02d} is mandatory",
                        reference=element_spec.ref,
                    )
                )
            continue
        assert value is not None
        occurrences: Sequence[str | Composite]
        if isinstance(value, Repetition):
            occurrences = value
            if len(value) > element_spec.repeat:
                errors.append(
                    ElementError(position, "12", "too many repetitions", reference=element_spec.ref)
                )
                continue
        else:
            occurrences = (value,)
        for index, occurrence in enumerate(occurrences, start=1):
            repetition = index if isinstance(value, Repetition) else None
            errors.extend(_value_errors(segment.id, position, occurrence, element_spec, repetition))
    for rule in spec.rules:
        error = _rule_error(segment, rule)
        if error is not None:
            errors.append(error)
    return errors


def _value_errors(
    segment_id: str,
    position: int,
    value: str | Composite,
    spec: ElementSpec,
    repetition: int | None,
) -> list[ElementError]:
    if spec.components:
        parts: tuple[str, ...] = value if isinstance(value, Composite) else (value,)
        if len(parts) > len(spec.components):
            return [
                ElementError(
                    position, "13", "too many components", reference=spec.ref, repetition=repetition
                )
            ]
        found: list[ElementError] = []
        for number, component_spec in enumerate(spec.components, start=1):
            part = parts[number - 1] if number <= len(parts) else ""
            if not part:
                if component_spec.req == "M":
                    found.append(
                        ElementError(
                            position,
                            "1",
                            f"{segment_id}{position:02d}-{number:02d} is mandatory",
                            reference=component_spec.ref,
                            component=number,
                            repetition=repetition,
                        )
                    )
                continue
            problem = check_element(part, component_spec)
            if problem is not None:
                found.append(
                    ElementError(
                        position,
                        problem[0],
                        f"{segment_id}{position:02d}-{number:02d}: {problem[1]}",
                        reference=component_spec.ref,
                        component=number,
                        repetition=repetition,
                        data=part[:99],
                    )
                )
        return found
    if isinstance(value, Composite):
        return [
            ElementError(
                position,
                "13",
                f"{segment_id}{position:02d} is not a composite",
                reference=spec.ref,
                repetition=repetition,
                data=None,
            )
        ]
    problem = check_element(value, spec)
    if problem is None:
        return []
    return [
        ElementError(
            position,
            problem[0],
            f"{segment_id}{position:02d}: {problem[1]}",
            reference=spec.ref,
            repetition=repetition,
            data=value[:99],
        )
    ]


def _rule_error(segment: Segment, rule: str) -> ElementError | None:
    kind = rule[0]
    positions = [int(rule[index : index + 2]) for index in range(1, len(rule), 2)]
    present = [
        _present(segment.elements[p - 1]) if p <= len(segment.elements) else False
        for p in positions
    ]
    first = positions[0]
    name = f"{segment.id} rule {rule}"
    if kind == "P" and any(present) and not all(present):
        missing = positions[present.index(False)]
        return ElementError(missing, "2", f"{name}: all or none of the elements")
    if kind == "R" and not any(present):
        return ElementError(first, "2", f"{name}: at least one of the elements is required")
    if kind == "E" and sum(present) > 1:
        second = positions[[i for i, flag in enumerate(present) if flag][1]]
        return ElementError(second, "10", f"{name}: only one of the elements may be present")
    if kind == "C" and present[0] and not all(present[1:]):
        missing = positions[1 + present[1:].index(False)]
        return ElementError(missing, "2", f"{name}: required when {segment.id}{first:02d} is")
    if kind == "L" and present[0] and not any(present[1:]):
        return ElementError(positions[1], "2", f"{name}: one more required with the first")
    return None


# -- the fast path ------------------------------------------------------------------------------
# Almost every segment is sound: one compiled pattern per element says so in a single C call,
# and only a segment that fails it goes through the checks above, which name the error.


@dataclass(frozen=True, slots=True)
class _Compiled:
    spec: SegmentSpec
    count: int
    mandatory: tuple[int, ...]
    checks: tuple[tuple[re.Pattern[str], frozenset[str] | None, str] | None, ...]
    rules: tuple[tuple[str, tuple[int, ...], frozenset[int]], ...]


_COMPILED: dict[int, _Compiled] = {}


def _pattern(spec: ElementSpec) -> re.Pattern[str]:
    low, high = spec.min, spec.max
    if spec.type in ("AN", "ID"):
        return re.compile(rf"[^\x00-\x08\x0a-\x1f\x7f]{{{low},{high}}}")
    if spec.type == "DT":
        return re.compile(r"[0-9]{8}|[0-9]{6}")
    if spec.type == "TM":
        return _TIME
    if spec.type == "R":
        return re.compile(rf"-?(?=[0-9.]{{{low},{high + 1}}}$)[0-9]*\.?[0-9]*")
    return re.compile(rf"-?[0-9]{{{low},{high}}}")


def _compiled(spec: SegmentSpec) -> _Compiled:
    found = _COMPILED.get(id(spec))
    if found is not None and found.spec is spec:
        return found
    checks = tuple(
        None
        if element.components or element.repeat > 1
        else (_pattern(element), element.codes, element.type)
        for element in spec.elements
    )
    rules = tuple(
        (rule[0], positions, frozenset(positions))
        for rule in spec.rules
        for positions in [tuple(int(rule[i : i + 2]) for i in range(1, len(rule), 2))]
    )
    mandatory = tuple(n for n, element in enumerate(spec.elements, 1) if element.req == "M")
    compiled = _Compiled(spec, len(spec.elements), mandatory, checks, rules)
    _COMPILED[id(spec)] = compiled
    return compiled


def _sound(segment: Segment, compiled: _Compiled) -> bool:
    """True when the segment certainly has no element error (False: look closer)."""
    elements = segment.elements
    if len(elements) > compiled.count:
        return False
    for position in compiled.mandatory:
        if position > len(elements):
            return False
        value = elements[position - 1]
        if type(value) is str and not value.strip(" "):
            return False
    for value, check in zip(elements, compiled.checks, strict=False):
        if not value:
            continue
        if check is None or type(value) is not str:
            return False
        pattern, codes, kind = check
        if pattern.fullmatch(value) is None:
            return False
        if codes is not None and value not in codes:
            return False
        if kind == "AN" and value[-1] == " ":
            return False
        if kind == "DT" and not _valid_date(value):
            return False
        if kind == "R" and len(value) - value.count("-") - value.count(".") < 1:
            return False
    if compiled.rules:
        present = {n for n, value in enumerate(elements, 1) if value}
        for kind, positions, members in compiled.rules:
            hit = present & members
            if kind == "P":
                if hit and hit != members:
                    return False
            elif kind == "R":
                if not hit:
                    return False
            elif kind == "E":
                if len(hit) > 1:
                    return False
            elif kind == "C":
                if positions[0] in hit and len(hit) != len(members):
                    return False
            elif kind == "L" and positions[0] in hit and len(hit) == 1:
                return False
    return True


# -- structure -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Walk:
    spec: SetSpec
    segments: Sequence[Segment]
    index: int = 0
    errors: list[SegmentError] = field(default_factory=list)

    def position(self) -> int:
        """Segment position of the current segment, ST being 1."""
        return self.index + 2

    def error(
        self, code: str, message: str, segment_id: str, loop_id: str | None, position: int = 0
    ) -> None:
        self.errors.append(
            SegmentError(position or self.position(), segment_id, code, message, loop_id)
        )

    def body(self, body: tuple[Use | Loop, ...], loop_id: str | None, top: bool) -> None:
        counts = [0] * len(body)
        cursor = 0
        if not top:
            # Inside a loop its trigger (body[0]) is read: seeing it again ends the occurrence.
            counts[0] = 1
            cursor = 1
        segments = self.segments
        while self.index < len(segments):
            segment = segments[self.index]
            found = _find(body, segment.id, cursor)
            if found is None:
                if segment.id not in self.spec.ids:
                    code = "2" if segment.id in self.spec.segments else "1"
                    text = "not used in" if code == "2" else "unrecognized in"
                    self.error(code, f"{segment.id} {text} set {self.spec.id}", segment.id, loop_id)
                    self.index += 1
                    continue
                if not top:
                    break
                self.error("7", f"{segment.id} is not in its proper sequence", segment.id, loop_id)
                earlier = _find(body, segment.id, 0)
                if earlier is None:
                    self.index += 1
                    continue
                # Resume the walk at the out-of-place segment: one error, not one per segment.
                found = cursor = earlier
            self._missing(body, counts, cursor, found, loop_id)
            cursor = found
            node = body[found]
            counts[found] += 1
            if isinstance(node, Use):
                if counts[found] > node.max:
                    self.error("5", f"{node.id} used more than {node.max} times", node.id, loop_id)
                self.check(segment, loop_id)
                self.index += 1
            else:
                if counts[found] > node.max:
                    self.error(
                        "4",
                        f"loop {node.id} occurs more than {node.max} times",
                        segment.id,
                        node.id,
                    )
                self.check(segment, node.id)
                self.index += 1
                self.body(node.body, node.id, False)
        self._missing(body, counts, cursor, len(body), loop_id)

    def _missing(
        self,
        body: tuple[Use | Loop, ...],
        counts: list[int],
        start: int,
        stop: int,
        loop_id: str | None,
    ) -> None:
        for number in range(start, stop):
            node = body[number]
            if counts[number] == 0 and node.req == "M":
                segment_id = node.id if isinstance(node, Use) else node.trigger
                self.error("3", f"mandatory {segment_id} missing", segment_id, loop_id)
                counts[number] = -1

    def check(self, segment: Segment, loop_id: str | None) -> None:
        segment_spec = self.spec.segments[segment.id]
        if _sound(segment, _compiled(segment_spec)):
            return
        element_errors = _segment_errors(segment, segment_spec)
        if element_errors:
            self.errors.append(
                SegmentError(
                    self.position(),
                    segment.id,
                    "8",
                    "; ".join(error.message for error in element_errors),
                    loop_id,
                    tuple(element_errors),
                )
            )


def _find(body: tuple[Use | Loop, ...], segment_id: str, start: int) -> int | None:
    for number in range(start, len(body)):
        node = body[number]
        if (node.id if isinstance(node, Use) else node.trigger) == segment_id:
            return number
    return None


def validate(segments: Sequence[Segment], spec: SetSpec) -> list[SegmentError]:
    """Check the segments between ST and SE against `spec`: order, requirement and use of
    segments and loops, each segment's elements and syntax rules, and for hierarchical sets
    (856) the HL numbering. Errors come in segment order; empty means the set is sound."""
    walk = _Walk(spec, segments)
    walk.body(spec.body, None, True)
    if spec.hierarchical:
        walk.errors.extend(_hierarchy_errors(segments))
    walk.errors.sort(key=lambda error: error.position)
    return walk.errors


def _hierarchy_errors(segments: Sequence[Segment]) -> list[SegmentError]:
    """HL01 numbers 1, 2, 3… in order; HL02 names an earlier HL; HL03 is given."""
    errors: list[SegmentError] = []
    seen: set[str] = set()
    expected = 1
    for index, segment in enumerate(segments):
        if segment.id != "HL":
            continue
        number, parent = segment.get(1), segment.get(2)
        problems: list[ElementError] = []
        if number != str(expected):
            problems.append(
                ElementError(1, "7", f"HL01 {number!r} should be {expected}", "628", data=number)
            )
        if parent and parent not in seen:
            problems.append(
                ElementError(2, "7", f"HL02 {parent!r} names no earlier HL", "734", data=parent)
            )
        if problems:
            errors.append(
                SegmentError(
                    index + 2,
                    "HL",
                    "8",
                    "; ".join(p.message for p in problems),
                    "HL",
                    tuple(problems),
                )
            )
        seen.add(number)
        expected += 1
    return errors
