"""Broken interchanges get the X12 answer a partner expects: TA1 note codes for envelopes,
997 AK3/AK4/AK5/AK9 codes for sets, and one bad set never rejects the good ones."""

from __future__ import annotations

import pytest

from crossdock.connectors.edi.x12 import (
    Interchange,
    InterchangeEnd,
    SetResult,
    X12Error,
    X12SyntaxError,
    acknowledge,
    generate,
    load,
    parse,
    ta1,
)
from crossdock.connectors.edi.x12.mapping import order_to_850
from tests.connectors.edi.x12 import x12_samples as samples


def _text(version: str = "005010", sets: int = 1) -> str:
    interchange = samples.envelope(order_to_850(samples.order(), 1), version)
    for number in range(2, sets + 1):
        interchange.groups[0].sets.append(order_to_850(samples.order(), number))
    return generate(interchange).decode()


def _results(text: str) -> list[SetResult]:
    [interchange] = load(text.encode())
    return [s.result for group in interchange.groups for s in group.sets if s.result]


def _errors(text: str) -> list[tuple[str, int, str, list[tuple[int, str]]]]:
    [result] = _results(text)
    return [
        (e.segment_id, e.position, e.code, [(x.position, x.code) for x in e.elements])
        for e in result.segment_errors
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("BEG*00*SA*PO-4711**", "BEG*00*SA***", [("BEG", 2, "8", [(3, "1")])]),
        ("BEG*00*SA", "BEG*99*SA", [("BEG", 2, "8", [(1, "7")])]),
        ("**20261119~", "**20261399~", [("BEG", 2, "8", [(5, "8")])]),
        ("PO1*1*2*EA*120.5", "PO1*1*2x*EA*120.5", [("PO1", 19, "8", [(2, "6")])]),
        ("CUR*BY*USD", "CUR*BY*USDX", [("CUR", 3, "8", [(2, "5")])]),
        ("CUR*BY*USD", "CUR*BY*USD********X", [("CUR", 3, "8", [(10, "3")])]),
        ("DTM*002*20261130~\n", "", []),
        ("DTM*002*20261130~\n", "ZZZ*1~\n", [("ZZZ", 4, "1", [])]),
        ("DTM*002*20261130~\n", "BIG*20261130*1~\n", [("BIG", 4, "2", [])]),
        (
            "CUR*BY*USD~\nDTM*002*20261130~\n",
            "DTM*002*20261130~\nCUR*BY*USD~\n",
            [("CUR", 4, "7", [])],
        ),
        ("BEG*00*SA*PO-4711**20261119~\n", "", [("BEG", 2, "3", [])]),
        ("N4*Solon*OH*44139*US~", "N4*Solon*OH*44139*US**X1~", [("N4", 12, "8", [(5, "2")])]),
    ],
    ids=[
        "mandatory-element",
        "bad-code",
        "bad-date",
        "bad-number",
        "too-long",
        "too-many-elements",
        "optional-missing-is-fine",
        "unrecognized-segment",
        "segment-not-in-set",
        "out-of-sequence",
        "mandatory-segment",
        "conditional-rule",
    ],
)
def test_set_errors_carry_ak3_ak4_codes(
    old: str, new: str, expected: list[tuple[str, int, str, list[tuple[int, str]]]]
) -> None:
    text = _text()
    assert old in text
    text = text.replace(old, new, 1)
    # Keep SE01 right: only the content is broken.
    segments = text.split("ST*850*0001~\n", 1)[1].split("SE*", 1)[0].count("~")
    text = text.replace(
        text[text.index("SE*") : text.index("*0001~", text.index("SE*"))], f"SE*{segments + 2}"
    )
    found = _errors(text)
    assert found[: len(expected)] == expected
    assert found or not expected


def test_one_bad_set_does_not_reject_the_good_ones() -> None:
    text = _text(sets=3).replace("ST*850*0002~\nBEG*00*SA", "ST*850*0002~\nBEG*99*SA")
    [interchange] = load(text.encode())
    report = interchange.groups[0].report
    assert report is not None
    assert [r.status for r in report.sets] == ["A", "R", "A"]
    assert report.status == "P" and report.accepted_count == 2
    ack = acknowledge(report, 5)
    lines = [(s.id, s.elements) for s in ack.segments]
    assert ("AK5", ("R", "5")) in lines
    assert lines[-1] == ("AK9", ("P", "3", "3", "2"))
    assert ("AK4", ("1", "353", "7", "99")) in lines


@pytest.mark.parametrize(
    ("old", "new", "codes"),
    [
        ("SE*24*0001", "SE*23*0001", ("4",)),
        ("SE*24*0001", "SE*24*0009", ("3",)),
        ("ST*850*0001~", "ST*999*0001~", ("1",)),
    ],
)
def test_set_envelope_errors_are_ak5_codes(old: str, new: str, codes: tuple[str, ...]) -> None:
    text = _text()
    assert old in text
    [result] = _results(text.replace(old, new))
    assert result.codes[: len(codes)] == codes


def test_duplicate_set_control_number_in_a_group() -> None:
    text = _text(sets=2).replace("0002", "0001")
    results = _results(text)
    assert [r.codes for r in results] == [(), ("23",)]


@pytest.mark.parametrize(
    ("old", "new", "codes"),
    [
        ("GE*1*17~", "GE*2*17~", ("5",)),
        ("GE*1*17~", "GE*1*18~", ("4",)),
        ("X*005010~", "X*003040~", ("2",)),
    ],
)
def test_group_envelope_errors_are_ak9_codes(old: str, new: str, codes: tuple[str, ...]) -> None:
    [interchange] = load(_text().replace(old, new).encode())
    report = interchange.groups[0].report
    assert report is not None and report.codes == codes and report.status == "R"
    ak9 = acknowledge(report, 1).segments[-1]
    assert ak9.id == "AK9" and ak9.elements[0] == "R" and ak9.elements[4:] == codes


@pytest.mark.parametrize(
    ("old", "new", "note"),
    [
        ("IEA*1*000000017", "IEA*1*000000018", "001"),
        ("IEA*1*000000017", "IEA*2*000000017", "021"),
        ("IEA*1*000000017~\n", "", "023"),
        ("GE*1*17~\n", "GE*1*17~\nXYZ*1~\n", "024"),
    ],
)
def test_interchange_envelope_errors_are_ta1_notes(old: str, new: str, note: str) -> None:
    events = list(parse(_text().replace(old, new).encode()))
    end = events[-1]
    assert isinstance(end, InterchangeEnd)
    assert end.report.note_codes[0] == note
    answer = ta1(end.report, end.interchange.header)
    assert answer.elements == ("000000017", "261120", "0930", "R", note)


@pytest.mark.parametrize(
    ("mutate", "note"),
    [
        (lambda t: t.replace("HUB            ", "HUB"), "006"),
        (lambda t: t.replace("*261120*", "*26112*"), "014"),
        (lambda t: t.replace("*000000017*0*P", "*00000001X*0*P"), "018"),
        (lambda t: t.replace("*00501*", "*0050A*"), "017"),
        (lambda t: t[:105] + "A" + t[106:], "004"),
        (lambda t: "GS*" + t, "022"),
        (lambda t: t[:3] + "1" + t[4:], "026"),
    ],
    ids=[
        "sender-id-length",
        "date-length",
        "control-number",
        "version",
        "terminator",
        "no-isa",
        "element-separator",
    ],
)
def test_unreadable_isa_raises_with_a_ta1_note(mutate, note: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(X12SyntaxError) as caught:
        list(parse(mutate(_text()).encode()))
    assert caught.value.note_code == note
    assert ta1(caught.value).elements[3:] == ("R", note)


def test_accepted_interchange_gets_ta1_000() -> None:
    [interchange] = load(_text().encode())
    assert isinstance(interchange, Interchange) and interchange.report is not None
    assert ta1(interchange.report, interchange.header).elements[3:] == ("A", "000")


def test_two_interchanges_with_different_delimiters_in_one_file() -> None:
    first = _text("004010")
    other = samples.envelope(
        order_to_850(samples.order(), 1),
        "005010",
        delimiters=samples.Delimiters("|", ":", "'", "!", ""),
    )
    data = first.encode() + generate(other)
    interchanges = load(data)
    assert [i.delimiters.element for i in interchanges] == ["*", "|"]
    assert all(i.report is not None and i.report.accepted for i in interchanges)
    assert interchanges[1].groups[0].sets == other.groups[0].sets


def test_a_partner_variation_changes_codes_requirements_and_repeats() -> None:
    from crossdock.connectors.edi.x12 import Use, vary
    from crossdock.connectors.edi.x12.sets import PO_850

    text = _text().replace("N1*ST*Acme Stores", "N1*Z7*Acme Stores")
    assert _errors(text) == []  # N101 has no code list by default
    strict = {
        "850": vary(
            PO_850,
            elements={"N101": {"codes": ["ST", "BT", "BY"]}, "BEG04": {"req": "M"}},
            uses={"PID": {"max": 0}},
            insert={"after:CUR": Use("NTE", "O", 5)},
        )
    }
    [interchange] = load(text.encode(), specs=strict)
    [transaction_set] = interchange.groups[0].sets
    assert transaction_set.result is not None
    found = [
        (e.segment_id, e.code, [(x.position, x.code) for x in e.elements])
        for e in transaction_set.result.segment_errors
    ]
    assert ("BEG", "8", [(4, "1")]) in found
    assert ("N1", "8", [(1, "7")]) in found
    assert ("PID", "4", []) in found  # the PID loop over its (new) maximum
    with pytest.raises(X12Error, match="no place"):
        vary(PO_850, insert={"after:XYZ": Use("NTE")})
