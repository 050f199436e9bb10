"""Properties of the codec over any legal delimiters: data without delimiters round-trips
(whatever the chunking of the input), data with a delimiter is refused by the generator."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossdock.connectors.edi.x12 import (
    Composite,
    Delimiters,
    Element,
    FunctionalGroup,
    Interchange,
    Repetition,
    Segment,
    TransactionSet,
    X12Error,
    X12SyntaxError,
    acknowledge,
    generate,
    gs_header,
    isa_header,
    load,
    st_header,
)
from crossdock.connectors.edi.x12.mapping import (
    MappingError,
    acknowledgement_from_855,
    acknowledgement_to_855,
    invoice_from_810,
    invoice_to_810,
    order_from_850,
    order_to_850,
    shipment_from_856,
    shipment_to_856,
)
from crossdock.connectors.edi.x12.sets import SEGMENTS
from crossdock.connectors.edi.x12.spec import _compiled, _segment_errors, _sound
from tests.connectors.edi.x12 import x12_samples
from tests.connectors.edi.x12.x12_samples import WHEN

SEPARATORS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\x1c\x1d\x1e\x1f"


@st.composite
def delimiters(draw: st.DrawFn) -> Delimiters:
    repeated = draw(st.booleans())
    count = 4 if repeated else 3
    chars = draw(st.lists(st.sampled_from(SEPARATORS), min_size=count, max_size=count, unique=True))
    terminator = draw(st.sampled_from([chars[2], "\n"]))
    if terminator == "\n":
        chars[2] = "\n"
    suffix = "" if terminator == "\n" else draw(st.sampled_from(["", "\n", "\r\n"]))
    return Delimiters(chars[0], chars[1], chars[2], chars[3] if repeated else None, suffix)


def _text(forbidden: str) -> st.SearchStrategy[str]:
    return st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cs"), blacklist_characters=forbidden + "\r\n"
        ),
        max_size=12,
    )


@st.composite
def element(draw: st.DrawFn, delims: Delimiters, top: bool = True) -> Element:
    forbidden = "".join(delims.characters())
    kind = draw(
        st.sampled_from(["simple", "composite", "repeat"] if top else ["simple", "composite"])
    )
    if kind == "composite":
        parts = draw(st.lists(_text(forbidden), min_size=1, max_size=3))
        last = draw(_text(forbidden).filter(bool))
        return Composite((*parts, last))
    if kind == "repeat" and delims.repetition is not None:
        return Repetition(draw(st.lists(element(delims, top=False), min_size=2, max_size=3)))
    return draw(_text(forbidden))


@st.composite
def interchanges(draw: st.DrawFn) -> Interchange:
    delims = draw(delimiters())
    version = ("00501", "005010") if delims.repetition else ("00401", "004010")
    segments = [
        Segment.of(
            draw(st.sampled_from(["MSG", "REF", "N1", "PID", "ZZZ"])),
            *draw(st.lists(element(delims), min_size=1, max_size=6)),
        )
        for _ in range(draw(st.integers(1, 5)))
    ]
    return Interchange(
        isa_header(("ZZ", "HUB"), ("ZZ", "ACME"), 7, version=version[0], when=WHEN),
        [
            FunctionalGroup(
                gs_header("PO", "HUB", "ACME", 7, version=version[1], when=WHEN),
                [TransactionSet(st_header("850", 1), segments)],
            )
        ],
        delims,
    )


@settings(max_examples=150, deadline=None)
@given(interchanges(), st.integers(1, 64))
def test_data_without_delimiters_round_trips(interchange: Interchange, chunk: int) -> None:
    data = generate(interchange)
    pieces = [data[start : start + chunk] for start in range(0, len(data), chunk)]
    [parsed] = load(pieces, validate_sets=False)
    assert parsed.groups == interchange.groups
    assert parsed.delimiters == interchange.delimiters
    # ISA11 and ISA16 are the delimiters themselves; every other ISA element is kept.
    keep = [n for n in range(16) if n not in (10, 15)]
    assert [parsed.header.elements[n] for n in keep] == [
        interchange.header.elements[n] for n in keep
    ]
    assert parsed.report is not None and parsed.report.accepted
    assert generate(parsed) == data
    assert load(generate(parsed), validate_sets=False) == [parsed]


@settings(max_examples=100, deadline=None)
@given(interchanges(), st.data())
def test_a_delimiter_inside_data_is_refused(interchange: Interchange, data: st.DataObject) -> None:
    delims = interchange.delimiters
    char = data.draw(st.sampled_from(delims.characters()))
    text = data.draw(_text("".join(delims.characters())))
    cut = data.draw(st.integers(0, len(text)))
    segments = interchange.groups[0].sets[0].segments
    segments.append(Segment("MSG", (text[:cut] + char + text[cut:],)))
    with pytest.raises(X12Error, match="MSG01"):
        generate(interchange)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(SEGMENTS)), st.data())
def test_the_validators_fast_path_never_passes_a_segment_in_error(
    segment_id: str, data: st.DataObject
) -> None:
    spec = SEGMENTS[segment_id]
    values = data.draw(
        st.lists(
            st.one_of(
                st.sampled_from(
                    [
                        "",
                        "",
                        "00",
                        "SA",
                        "EA",
                        "20261131",
                        "20261130",
                        "1230",
                        "-1.5",
                        "12",
                        "1.",
                        "ABC",
                        " ",
                        "2",
                    ]
                ),
                st.text(alphabet="0123456789.-AZ ", max_size=10),
            ),
            max_size=len(spec.elements) + 1,
        )
    )
    segment = Segment.of(segment_id, *values)
    if _sound(segment, _compiled(spec)):
        assert _segment_errors(segment, spec) == []


MAPPERS = {
    "850": lambda s: order_from_850(s, partner="ACME"),
    "855": lambda s: acknowledgement_from_855(s, seller=True),
    "856": lambda s: shipment_from_856(s),
    "810": lambda s: invoice_from_810(s, direction="customer"),
}


def _valid_text() -> bytes:
    interchange = x12_samples.envelope(shipment_to_856(x12_samples.shipment(), 1))
    interchange.groups[0].sets += [
        order_to_850(x12_samples.order(), 2),
        acknowledgement_to_855(x12_samples.acknowledgement(), 3),
        invoice_to_810(x12_samples.invoice(), 4),
    ]
    return generate(interchange)


VALID = _valid_text()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 8), st.binary(max_size=6)),
        min_size=1,
        max_size=6,
    )
)
def test_damaged_input_gets_an_answer_never_a_crash(
    edits: list[tuple[int, int, bytes]],
) -> None:
    """Whatever is cut out or pasted in, the reader answers with reports (997/TA1 material) or
    X12SyntaxError (a TA1 note), and a set it accepts maps or raises MappingError: never
    another exception."""
    data = VALID
    for at, cut, paste in edits:
        data = data[:at] + paste + data[at + cut :]
    try:
        interchanges = load(data)
    except X12SyntaxError as error:
        assert error.note_code.isdigit() and len(error.note_code) == 3
        return
    for interchange in interchanges:
        assert interchange.report is not None
        for group in interchange.groups:
            assert group.report is not None
            acknowledge(group.report, 1)
            for transaction_set in group.sets:
                if transaction_set.result is None or not transaction_set.result.accepted:
                    continue
                with contextlib.suppress(MappingError):
                    MAPPERS[transaction_set.id](transaction_set)
