"""X12 envelopes: delimiters from the ISA, control numbers and counts checked, round trips."""

from __future__ import annotations

import pytest

from crossdock.connectors.edi.x12 import (
    Delimiters,
    GroupEnd,
    InterchangeEnd,
    SetRead,
    X12Error,
    X12SyntaxError,
    acknowledge,
    generate,
    load,
    parse,
    ta1,
)

PO_4010 = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *231005*1200*U*00401*"
    "000000001*0*P*>~\n"
    "GS*PO*SENDER*RECEIVER*20231005*1200*1*X*004010~\n"
    "ST*850*0001~\n"
    "BEG*00*SA*PO123**20231005~\n"
    "N1*ST*Store 1*92*001~\n"
    "N3*1 Main St~\n"
    "N4*Springfield*IL*62701*US~\n"
    "PO1*1*10*EA*2.5**BP*SKU1*VN*V1~\n"
    "PID*F****Widget~\n"
    "CTT*1~\n"
    "SE*9*0001~\n"
    "GE*1*1~\n"
    "IEA*1*000000001~\n"
)


def test_reads_delimiters_and_round_trips() -> None:
    [interchange] = load(PO_4010.encode())
    assert interchange.delimiters == Delimiters("*", ">", "~", None, "\n")
    assert interchange.report is not None and interchange.report.accepted
    [group] = interchange.groups
    assert group.report is not None and group.report.status == "A"
    [po] = group.sets
    assert po.id == "850" and po.result is not None and po.result.accepted
    assert generate(interchange).decode() == PO_4010
    assert load(generate(interchange)) == [interchange]


def test_streams_events_from_small_chunks() -> None:
    data = PO_4010.encode()
    events = list(parse(data[i : i + 7] for i in range(0, len(data), 7)))
    kinds = [type(event).__name__ for event in events]
    assert kinds == ["InterchangeStart", "GroupStart", "SetRead", "GroupEnd", "InterchangeEnd"]
    assert isinstance(events[2], SetRead) and events[2].result.accepted


def test_lines_wrapped_at_any_column_are_layout() -> None:
    # Some translators and VAN mailboxes wrap what follows the ISA line at a fixed width (80
    # columns here), cutting segments anywhere; the line breaks are layout, the segments the same.
    isa, rest = PO_4010.split("\n", 1)
    flat = rest.replace("\n", "")
    wrapped = isa + "\n" + "\n".join(flat[i : i + 80] for i in range(0, len(flat), 80)) + "\n"
    assert "~\n" in wrapped and any(not line.endswith("~") for line in wrapped.splitlines())
    for chunk in (7, 4096):
        data = wrapped.encode()
        [interchange] = load(data[i : i + chunk] for i in range(0, len(data), chunk))
        assert interchange.report is not None and interchange.report.accepted
        assert interchange.groups == load(PO_4010.encode())[0].groups


def test_counts_and_control_numbers_are_checked() -> None:
    broken = (
        PO_4010.replace("SE*9*0001", "SE*8*0002")
        .replace("GE*1*1", "GE*2*1")
        .replace("IEA*1*000000001", "IEA*1*000000002")
    )
    events = list(parse(broken.encode()))
    [set_read] = [event for event in events if isinstance(event, SetRead)]
    assert set_read.result.codes == ("3", "4")
    [group_end] = [event for event in events if isinstance(event, GroupEnd)]
    assert group_end.report.codes == ("5",)
    [end] = [event for event in events if isinstance(event, InterchangeEnd)]
    assert end.report.note_codes == ("001",)
    answer = ta1(end.report, end.interchange.header)
    assert answer.elements == ("000000001", "231005", "1200", "R", "001")
    ack = acknowledge(group_end.report, 1)
    assert [segment.id for segment in ack.segments] == ["AK1", "AK2", "AK5", "AK9"]
    assert ack.segments[2].elements == ("R", "3", "4")


def test_bad_isa_length_is_a_ta1_note() -> None:
    bad = PO_4010.replace("SENDER         ", "SENDER")
    with pytest.raises(X12SyntaxError) as caught:
        list(parse(bad.encode()))
    assert caught.value.note_code == "006"
    assert caught.value.control_number == "000000001"


def test_generator_refuses_a_delimiter_in_data() -> None:
    [interchange] = load(PO_4010.encode())
    interchange.groups[0].sets[0].segments[2] = (
        interchange.groups[0].sets[0].segments[2]._replace(elements=("1 Main St*Suite 2",))
    )
    with pytest.raises(X12Error, match="N301"):
        generate(interchange)
