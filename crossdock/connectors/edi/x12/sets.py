"""The transaction sets the hub speaks — 850, 855, 856, 810, 997 — declared as data.

The segment dictionary below follows the X12 004010/005010 element definitions (reference
number, type, min/max length, requirement, syntax rules); where 005010 widened an element (REF02
to 50, PER04 to 256) or added one (ST03, AK103, AK203, N407) the definition takes the 005010
form, so that one definition reads both versions. Code lists are given for the elements whose
values the hub acts on; other ``ID`` elements are checked for length only. A partner's
variation is made with :func:`crossdock.connectors.edi.x12.spec.vary`.
"""

from __future__ import annotations

from collections.abc import Mapping

from crossdock.connectors.edi.x12.spec import (
    ElementSpec,
    ElementType,
    Loop,
    Requirement,
    SegmentSpec,
    SetSpec,
    Use,
)

__all__ = ["SEGMENTS", "SPECS", "spec_for"]


def _e(
    ref: str,
    kind: ElementType,
    low: int,
    high: int,
    req: Requirement = "O",
    codes: str | None = None,
    name: str = "",
) -> ElementSpec:
    return ElementSpec(ref, kind, low, high, req, frozenset(codes.split()) if codes else None, name)


def _c(ref: str, req: Requirement, *components: ElementSpec) -> ElementSpec:
    return ElementSpec(ref, "C", 0, 0, req, components=components)


def _pairs(count: int, first: Requirement = "X") -> tuple[ElementSpec, ...]:
    """Product/service id qualifier (235) and id (234) pairs: LIN, PO1, IT1, ACK."""
    items: list[ElementSpec] = []
    for number in range(count):
        req: Requirement = first if number == 0 else "X"
        items += [
            _e("235", "ID", 2, 2, req, name="product id qualifier"),
            _e("234", "AN", 1, 48, req, name="product id"),
        ]
    return tuple(items)


def _pair_rules(start: int, count: int) -> tuple[str, ...]:
    return tuple(f"P{start + 2 * n:02d}{start + 2 * n + 1:02d}" for n in range(count))


SEGMENTS: Mapping[str, SegmentSpec] = {
    spec.id: spec
    for spec in (
        SegmentSpec(
            "ST",
            (
                _e("143", "ID", 3, 3, "M", name="transaction set identifier code"),
                _e("329", "AN", 4, 9, "M", name="transaction set control number"),
                _e("1705", "AN", 1, 35, name="implementation convention reference"),
            ),
        ),
        SegmentSpec("SE", (_e("96", "N0", 1, 10, "M"), _e("329", "AN", 4, 9, "M"))),
        SegmentSpec(
            "BEG",
            (
                _e("353", "ID", 2, 2, "M", "00 01 03 04 05 06 07 18 22", "purpose"),
                _e(
                    "92",
                    "ID",
                    2,
                    2,
                    "M",
                    "BE BK CF CN DS KN NE NP OS PR RE RL RO SA SD SP ST WO ZZ",
                    "order type",
                ),
                _e("324", "AN", 1, 22, "M", name="purchase order number"),
                _e("328", "AN", 1, 30, name="release number"),
                _e("373", "DT", 8, 8, "M", name="purchase order date"),
                _e("367", "AN", 1, 30),
                _e("587", "ID", 2, 2),
                _e("1019", "ID", 1, 3),
                _e("1166", "ID", 2, 2),
                _e("1232", "ID", 2, 2),
            ),
        ),
        SegmentSpec(
            "CUR",
            (
                _e("98", "ID", 2, 3, "M"),
                _e("100", "ID", 3, 3, "M"),
                _e("280", "R", 4, 10),
                _e("98", "ID", 2, 3),
                _e("100", "ID", 3, 3),
                _e("669", "ID", 3, 3),
                _e("374", "ID", 3, 3),
                _e("373", "DT", 8, 8),
                _e("337", "TM", 4, 8),
            ),
            ("C0807", "C0907"),
        ),
        SegmentSpec(
            "REF",
            (
                _e("128", "ID", 2, 3, "M"),
                _e("127", "AN", 1, 50, "X"),
                _e("352", "AN", 1, 80, "X"),
                _c(
                    "C040",
                    "O",
                    _e("128", "ID", 2, 3, "M"),
                    _e("127", "AN", 1, 50, "M"),
                    _e("128", "ID", 2, 3, "X"),
                    _e("127", "AN", 1, 50, "X"),
                ),
            ),
            ("R0203",),
        ),
        SegmentSpec(
            "PER",
            (
                _e("366", "ID", 2, 2, "M"),
                _e("93", "AN", 1, 60),
                _e("365", "ID", 2, 2, "X"),
                _e("364", "AN", 1, 256, "X"),
                _e("365", "ID", 2, 2, "X"),
                _e("364", "AN", 1, 256, "X"),
                _e("365", "ID", 2, 2, "X"),
                _e("364", "AN", 1, 256, "X"),
                _e("443", "AN", 1, 20),
            ),
            ("P0304", "P0506", "P0708"),
        ),
        SegmentSpec(
            "TAX",
            (
                *tuple(_e("325", "AN", 1, 20) for _ in range(1)),
                _e("309", "ID", 1, 2),
                _e("310", "AN", 1, 30),
                _e("309", "ID", 1, 2),
                _e("310", "AN", 1, 30),
                _e("309", "ID", 1, 2),
                _e("310", "AN", 1, 30),
                _e("309", "ID", 1, 2),
                _e("310", "AN", 1, 30),
                _e("309", "ID", 1, 2),
                _e("310", "AN", 1, 30),
                _e("441", "ID", 1, 1),
                _e("1179", "ID", 1, 1),
            ),
        ),
        SegmentSpec(
            "FOB",
            (
                _e(
                    "146",
                    "ID",
                    2,
                    2,
                    "M",
                    "11 BP CA CC CD CF DE DF FO HP MX NC NR PA PB PC PD PE PO PP PS PU RC RF RS TP",
                ),
                _e("309", "ID", 1, 2, "X"),
                _e("352", "AN", 1, 80, "X"),
                _e("334", "ID", 2, 2),
                _e("335", "ID", 3, 3, "X"),
                _e("309", "ID", 1, 2),
                _e("352", "AN", 1, 80),
                _e("54", "ID", 2, 2),
                _e("352", "AN", 1, 80),
            ),
            ("C0302", "C0405", "C0706", "C0809"),
        ),
        SegmentSpec(
            "SAC",
            (
                _e("248", "ID", 1, 1, "M", "A C N"),
                _e("1300", "ID", 4, 4, "X"),
                _e("559", "ID", 2, 2, "X"),
                _e("1301", "AN", 1, 10, "X"),
                _e("610", "N2", 1, 15),
                _e("378", "ID", 1, 1, "X"),
                _e("332", "R", 1, 6, "X"),
                _e("118", "R", 1, 9, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("380", "R", 1, 15, "X"),
                _e("380", "R", 1, 15),
                _e("331", "ID", 2, 2, "X"),
                _e("127", "AN", 1, 50, "X"),
                _e("770", "AN", 1, 20),
                _e("352", "AN", 1, 80, "X"),
                _e("819", "ID", 2, 3),
            ),
            ("R0203", "P0304", "P0607", "P0910", "C1413", "C1615"),
        ),
        SegmentSpec(
            "ITD",
            (
                _e("336", "ID", 2, 2),
                _e("333", "ID", 1, 2),
                _e("338", "R", 1, 6),
                _e("370", "DT", 8, 8),
                _e("351", "N0", 1, 3),
                _e("446", "DT", 8, 8),
                _e("386", "N0", 1, 3),
                _e("362", "N2", 1, 10),
                _e("388", "DT", 8, 8),
                _e("389", "N2", 1, 10),
                _e("342", "R", 1, 5),
                _e("352", "AN", 1, 80),
                _e("765", "N0", 1, 2),
                _e("107", "ID", 1, 2),
                _e("954", "R", 1, 10),
            ),
        ),
        SegmentSpec(
            "DTM",
            (
                _e("374", "ID", 3, 3, "M", name="date/time qualifier"),
                _e("373", "DT", 8, 8, "X"),
                _e("337", "TM", 4, 8, "X"),
                _e("623", "ID", 2, 2),
                _e("1250", "ID", 2, 3, "X"),
                _e("1251", "AN", 1, 35, "X"),
            ),
            ("R020305", "C0403", "P0506"),
        ),
        SegmentSpec(
            "TD1",
            (
                _e("103", "AN", 3, 5),
                _e("80", "N0", 1, 7, "X"),
                _e("23", "ID", 1, 1),
                _e("22", "AN", 1, 50, "X"),
                _e("79", "AN", 1, 50),
                _e("187", "ID", 1, 2),
                _e("81", "R", 1, 10, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("183", "R", 1, 8, "X"),
                _e("355", "ID", 2, 2, "X"),
            ),
            ("C0102", "C0304", "C0607", "P0708", "P0910"),
        ),
        SegmentSpec(
            "TD5",
            (
                _e("133", "ID", 1, 2),
                _e("66", "ID", 1, 2, "X"),
                _e("67", "AN", 2, 80, "X"),
                _e("91", "ID", 1, 2, "X"),
                _e("387", "AN", 1, 35, "X"),
                _e("368", "ID", 2, 2, "X"),
                _e("309", "ID", 1, 2, "X"),
                _e("310", "AN", 1, 30, "X"),
                _e("731", "ID", 2, 2),
                _e("732", "ID", 1, 1),
                _e("733", "ID", 2, 2, "X"),
                _e("284", "ID", 1, 2, "X"),
                _e("284", "ID", 1, 2),
                _e("26", "ID", 2, 3, "X"),
                _e("309", "ID", 1, 2),
            ),
            ("R0204050612", "C0203", "C0708", "C1011", "C1312", "C1413", "C1512"),
        ),
        SegmentSpec(
            "TD3",
            (
                _e("40", "ID", 2, 2, "X"),
                _e("206", "AN", 1, 4),
                _e("207", "AN", 1, 10, "X"),
                _e("187", "ID", 1, 2, "X"),
                _e("81", "R", 1, 10, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("183", "R", 1, 8),
                _e("102", "ID", 1, 2),
                _e("407", "ID", 1, 2),
                _e("225", "AN", 2, 15),
                _e("24", "ID", 5, 5),
            ),
            ("E0110", "C0203", "C0405", "P0506"),
        ),
        SegmentSpec(
            "MSG", (_e("933", "AN", 1, 264, "M"), _e("934", "ID", 2, 2), _e("1470", "N0", 1, 9))
        ),
        SegmentSpec(
            "N9",
            (
                _e("128", "ID", 2, 3, "M"),
                _e("127", "AN", 1, 50, "X"),
                _e("369", "AN", 1, 45, "X"),
                _e("373", "DT", 8, 8),
                _e("337", "TM", 4, 8),
                _e("623", "ID", 2, 2),
                _c("C040", "O", _e("128", "ID", 2, 3, "M"), _e("127", "AN", 1, 50, "M")),
            ),
            ("R0203",),
        ),
        SegmentSpec(
            "N1",
            (
                _e("98", "ID", 2, 3, "M", name="entity identifier code"),
                _e("93", "AN", 1, 60, "X", name="name"),
                _e("66", "ID", 1, 2, "X", name="identification code qualifier"),
                _e("67", "AN", 2, 80, "X", name="identification code"),
                _e("706", "ID", 2, 2),
                _e("98", "ID", 2, 3),
            ),
            ("R0203", "P0304"),
        ),
        SegmentSpec("NTE", (_e("363", "ID", 3, 3), _e("352", "AN", 1, 80, "M"))),
        SegmentSpec("N2", (_e("93", "AN", 1, 60, "M"), _e("93", "AN", 1, 60))),
        SegmentSpec("N3", (_e("166", "AN", 1, 55, "M"), _e("166", "AN", 1, 55))),
        SegmentSpec(
            "N4",
            (
                _e("19", "AN", 2, 30),
                _e("156", "ID", 2, 2),
                _e("116", "ID", 3, 15),
                _e("26", "ID", 2, 3),
                _e("309", "ID", 1, 2, "X"),
                _e("310", "AN", 1, 30, "X"),
                _e("1715", "ID", 3, 3),
            ),
            ("C0605",),
        ),
        SegmentSpec(
            "PO1",
            (
                _e("350", "AN", 1, 20, name="assigned identification"),
                _e("330", "R", 1, 15, "X", name="quantity ordered"),
                _e("355", "ID", 2, 2, "X", name="unit of measure"),
                _e("212", "R", 1, 17, "X", name="unit price"),
                _e("639", "ID", 2, 2, name="basis of unit price"),
                *_pairs(10),
            ),
            ("C0302", *_pair_rules(6, 10)),
        ),
        SegmentSpec(
            "PID",
            (
                _e("349", "ID", 1, 1, "M", "F S X"),
                _e("750", "ID", 2, 3),
                _e("559", "ID", 2, 2, "X"),
                _e("751", "AN", 1, 12, "X"),
                _e("352", "AN", 1, 80, "X"),
                _e("752", "ID", 2, 2),
                _e("822", "AN", 1, 15),
                _e("1073", "ID", 1, 1),
                _e("819", "ID", 2, 3),
            ),
            ("C0403", "R0405"),
        ),
        SegmentSpec(
            "PO4",
            (
                _e("356", "N0", 1, 6),
                _e("357", "R", 1, 8, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("103", "AN", 3, 5),
                _e("187", "ID", 1, 2, "X"),
                _e("384", "R", 1, 9, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("385", "R", 1, 9, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("82", "R", 1, 8, "X"),
                _e("189", "R", 1, 8, "X"),
                _e("65", "R", 1, 8, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("810", "N0", 1, 6),
                _e("752", "ID", 2, 2),
                _e("350", "AN", 1, 20),
                _e("350", "AN", 1, 20),
                _e("1470", "N0", 1, 9),
            ),
            ("C0203", "C0506", "P0607", "P0809", "C1013", "C1113", "C1213", "L13101112", "C1617"),
        ),
        SegmentSpec(
            "SCH",
            (
                _e("380", "R", 1, 15, "M"),
                _e("355", "ID", 2, 2, "M"),
                _e("98", "ID", 2, 3, "X"),
                _e("93", "AN", 1, 60, "X"),
                _e("374", "ID", 3, 3, "M"),
                _e("373", "DT", 8, 8, "M"),
                _e("337", "TM", 4, 8),
                _e("374", "ID", 3, 3, "X"),
                _e("373", "DT", 8, 8, "X"),
                _e("337", "TM", 4, 8),
                _e("326", "AN", 1, 45),
                _e("350", "AN", 1, 20),
            ),
            ("C0304", "L08091011", "C0908", "C1008"),
        ),
        SegmentSpec(
            "CTT",
            (
                _e("354", "N0", 1, 6, "M", name="number of line items"),
                _e("347", "R", 1, 10, name="hash total"),
                _e("81", "R", 1, 10, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("183", "R", 1, 8, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("352", "AN", 1, 80),
            ),
            ("P0304", "P0506"),
        ),
        SegmentSpec(
            "AMT",
            (_e("522", "ID", 1, 3, "M"), _e("782", "R", 1, 18, "M"), _e("478", "ID", 1, 1)),
        ),
        SegmentSpec(
            "BAK",
            (
                _e("353", "ID", 2, 2, "M", "00 01 04 05 06 07 18 19 22"),
                _e(
                    "587",
                    "ID",
                    2,
                    2,
                    "M",
                    "AC AD AE AH AK AP AT NA RD RF RJ RN RO RV RW ZZ",
                    "acknowledgment type",
                ),
                _e("324", "AN", 1, 22, "M"),
                _e("373", "DT", 8, 8, "M"),
                _e("328", "AN", 1, 30),
                _e("326", "AN", 1, 45),
                _e("367", "AN", 1, 30),
                _e("324", "AN", 1, 22, name="seller's order number"),
                _e("373", "DT", 8, 8, name="acknowledgment date"),
                _e("640", "ID", 2, 2),
            ),
        ),
        SegmentSpec(
            "ACK",
            (
                _e(
                    "668",
                    "ID",
                    2,
                    2,
                    "M",
                    "AC AR BP DR IA IB IC ID IE IF IH IP IQ IR IS IW R1 R2 R3 R4 SP",
                    "line item status code",
                ),
                _e("380", "R", 1, 15, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("374", "ID", 3, 3, "X"),
                _e("373", "DT", 8, 8),
                _e("326", "AN", 1, 45),
                *_pairs(10),
                _e("559", "ID", 2, 2),
                _e("822", "AN", 1, 15),
                _e("1271", "AN", 1, 30),
            ),
            ("P0203", "C0405", *_pair_rules(7, 10)),
        ),
        SegmentSpec(
            "BSN",
            (
                _e("353", "ID", 2, 2, "M", "00 01 02 03 04 05 06 07 12 14 18"),
                _e("396", "AN", 2, 30, "M", name="shipment identification"),
                _e("373", "DT", 8, 8, "M"),
                _e("337", "TM", 4, 8, "M"),
                _e("1005", "ID", 4, 4, "O", "0001 0002 0003 0004 0005"),
                _e("640", "ID", 2, 2, "X"),
                _e("641", "ID", 3, 3),
                _e("640", "ID", 2, 2),
            ),
            ("C0706",),
        ),
        SegmentSpec(
            "HL",
            (
                _e("628", "AN", 1, 12, "M", name="hierarchical id number"),
                _e("734", "AN", 1, 12, name="hierarchical parent id number"),
                _e("735", "ID", 1, 2, "M", "S O T P I", "hierarchical level code"),
                _e("736", "ID", 1, 1, "O", "0 1"),
            ),
        ),
        SegmentSpec("LIN", (_e("350", "AN", 1, 20), *_pairs(15, "M")), _pair_rules(4, 14)),
        SegmentSpec(
            "SN1",
            (
                _e("350", "AN", 1, 20),
                _e("382", "R", 1, 10, "M", name="number of units shipped"),
                _e("355", "ID", 2, 2, "M"),
                _e("646", "R", 1, 15),
                _e("330", "R", 1, 15, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("728", "R", 1, 9),
                _e("668", "ID", 2, 2),
            ),
            ("P0506",),
        ),
        SegmentSpec(
            "PRF",
            (
                _e("324", "AN", 1, 22, "M", name="purchase order number"),
                _e("328", "AN", 1, 30),
                _e("327", "AN", 1, 8),
                _e("373", "DT", 8, 8),
                _e("350", "AN", 1, 20),
                _e("367", "AN", 1, 30),
                _e("92", "ID", 2, 2),
            ),
        ),
        SegmentSpec(
            "MAN",
            (
                _e("88", "ID", 1, 2, "M", name="marks and numbers qualifier"),
                _e("87", "AN", 1, 48, "M"),
                _e("87", "AN", 1, 48),
                _e("88", "ID", 1, 2, "X"),
                _e("87", "AN", 1, 48, "X"),
                _e("87", "AN", 1, 48),
            ),
            ("P0405", "C0605"),
        ),
        SegmentSpec(
            "PKG",
            (
                _e("349", "ID", 1, 1, "X"),
                _e("753", "ID", 1, 3),
                _e("559", "ID", 2, 2),
                _e("754", "AN", 1, 7, "X"),
                _e("352", "AN", 1, 80, "X"),
                _e("400", "AN", 1, 1),
            ),
            ("R0405", "C0403"),
        ),
        SegmentSpec(
            "BIG",
            (
                _e("373", "DT", 8, 8, "M", name="invoice date"),
                _e("76", "AN", 1, 22, "M", name="invoice number"),
                _e("373", "DT", 8, 8),
                _e("324", "AN", 1, 22),
                _e("328", "AN", 1, 30),
                _e("327", "AN", 1, 8),
                _e("640", "ID", 2, 2),
                _e("353", "ID", 2, 2),
                _e("306", "ID", 1, 2),
                _e("76", "AN", 1, 22),
            ),
        ),
        SegmentSpec(
            "IT1",
            (
                _e("350", "AN", 1, 20),
                _e("358", "R", 1, 10, "X", name="quantity invoiced"),
                _e("355", "ID", 2, 2, "X"),
                _e("212", "R", 1, 17, "X"),
                _e("639", "ID", 2, 2),
                *_pairs(10),
            ),
            ("P020304", *_pair_rules(6, 10)),
        ),
        SegmentSpec(
            "TDS",
            (
                _e("610", "N2", 1, 15, "M", name="amount"),
                _e("610", "N2", 1, 15),
                _e("610", "N2", 1, 15),
                _e("610", "N2", 1, 15),
            ),
        ),
        SegmentSpec(
            "TXI",
            (
                _e("963", "ID", 2, 2, "M"),
                _e("782", "R", 1, 18, "X"),
                _e("954", "R", 1, 10, "X"),
                _e("955", "ID", 2, 2, "X"),
                _e("956", "AN", 1, 30, "X"),
                _e("441", "ID", 1, 1, "X"),
                _e("1325", "ID", 1, 1),
                _e("350", "AN", 1, 20),
                _e("350", "AN", 1, 20),
                _e("350", "AN", 1, 20),
            ),
            ("R020306", "P0405", "C0803"),
        ),
        SegmentSpec(
            "CAD",
            (
                _e("91", "ID", 1, 2),
                _e("206", "AN", 1, 4),
                _e("207", "AN", 1, 10),
                _e("140", "ID", 2, 4, "X"),
                _e("387", "AN", 1, 35, "X"),
                _e("368", "ID", 2, 2),
                _e("128", "ID", 2, 3, "X"),
                _e("127", "AN", 1, 50, "X"),
                _e("284", "ID", 1, 2),
            ),
            ("R0405", "P0708"),
        ),
        SegmentSpec(
            "ISS",
            (
                _e("382", "R", 1, 10, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("81", "R", 1, 10, "X"),
                _e("355", "ID", 2, 2, "X"),
                _e("183", "R", 1, 8, "X"),
                _e("355", "ID", 2, 2, "X"),
            ),
            ("P0102", "P0304", "P0506"),
        ),
        SegmentSpec(
            "AK1",
            (
                _e("479", "ID", 2, 2, "M", name="functional identifier code"),
                _e("28", "N0", 1, 9, "M", name="group control number"),
                _e("480", "AN", 1, 12, name="version"),
            ),
        ),
        SegmentSpec(
            "AK2",
            (
                _e("143", "ID", 3, 3, "M"),
                _e("329", "AN", 4, 9, "M"),
                _e("1705", "AN", 1, 35),
            ),
        ),
        SegmentSpec(
            "AK3",
            (
                _e("721", "ID", 2, 3, "M"),
                _e("719", "N0", 1, 10, "M"),
                _e("447", "AN", 1, 4),
                _e("720", "ID", 1, 3, "O", "1 2 3 4 5 6 7 8 I4 I6 I7 I8 I9"),
            ),
        ),
        SegmentSpec(
            "AK4",
            (
                _c(
                    "C030",
                    "M",
                    _e("722", "N0", 1, 2, "M"),
                    _e("1528", "N0", 1, 2),
                    _e("1686", "N0", 1, 4),
                ),
                _e("725", "N0", 1, 4),
                _e("723", "ID", 1, 3, "M", "1 2 3 4 5 6 7 8 9 10 12 13 I6 I9 I10 I11 I12 I13"),
                _e("724", "AN", 1, 99),
            ),
        ),
        SegmentSpec(
            "AK5",
            (
                _e("717", "ID", 1, 1, "M", "A E M R W X"),
                *tuple(_e("718", "ID", 1, 3) for _ in range(5)),
            ),
        ),
        SegmentSpec(
            "AK9",
            (
                _e("715", "ID", 1, 1, "M", "A E M P R W X"),
                _e("97", "N0", 1, 6, "M"),
                _e("123", "N0", 1, 6, "M"),
                _e("2", "N0", 1, 6, "M"),
                *tuple(_e("716", "ID", 1, 3) for _ in range(5)),
            ),
        ),
    )
}
"""The segment dictionary every set below draws on."""

_N1_LOOP = Loop(
    "N1",
    (
        Use("N1", "M"),
        Use("N2", "O", 2),
        Use("N3", "O", 2),
        Use("N4", "O", 99),
        Use("REF", "O", 12),
        Use("PER", "O", 99),
        Use("FOB", "O", 1),
        Use("TD1", "O", 2),
        Use("TD5", "O", 12),
    ),
    "O",
    200,
)

_N9_LOOP = Loop("N9", (Use("N9", "M"), Use("DTM", "O", 10), Use("MSG", "O", 1000)), "O", 1000)

PO_850 = SetSpec(
    "850",
    "Purchase Order",
    "PO",
    (
        Use("BEG", "M"),
        Use("CUR"),
        Use("REF", "O", 99),
        Use("PER", "O", 3),
        Use("TAX", "O", 99),
        Use("FOB", "O", 99),
        Loop("SAC", (Use("SAC", "M"), Use("CUR")), "O", 25),
        Use("ITD", "O", 99),
        Use("DTM", "O", 10),
        Use("PID", "O", 200),
        Use("PKG", "O", 200),
        Use("TD1", "O", 2),
        Use("TD5", "O", 12),
        Use("TD3", "O", 12),
        _N9_LOOP,
        _N1_LOOP,
        Loop(
            "PO1",
            (
                Use("PO1", "M"),
                Use("CUR"),
                Loop("PID", (Use("PID", "M"),), "O", 1000),
                Use("PO4", "O", 99),
                Use("REF", "O", 99),
                Use("PER", "O", 3),
                Loop("SAC", (Use("SAC", "M"), Use("CUR")), "O", 25),
                Use("ITD", "O", 2),
                Use("TAX", "O", 99),
                Use("FOB", "O", 99),
                Use("SCH", "O", 200),
                Use("DTM", "O", 10),
                Use("TD1", "O", 2),
                Use("TD5", "O", 12),
                Use("TD3", "O", 12),
                Use("MSG", "O", 99),
                Loop("N9", (Use("N9", "M"), Use("DTM", "O", 10), Use("MSG", "O", 1000)), "O", 1000),
                Loop(
                    "N1",
                    (
                        Use("N1", "M"),
                        Use("N2", "O", 2),
                        Use("N3", "O", 2),
                        Use("N4", "O", 99),
                        Use("REF", "O", 12),
                        Use("PER", "O", 3),
                    ),
                    "O",
                    200,
                ),
            ),
            "M",
            100000,
        ),
        Loop("CTT", (Use("CTT", "M"), Use("AMT")), "O", 1),
        Use("AMT", "O", 1),
    ),
    SEGMENTS,
)
"""850 Purchase Order (004010 and 005010)."""

ACK_855 = SetSpec(
    "855",
    "Purchase Order Acknowledgment",
    "PR",
    (
        Use("BAK", "M"),
        Use("CUR"),
        Use("REF", "O", 99),
        Use("PER", "O", 3),
        Use("TAX", "O", 99),
        Use("FOB", "O", 99),
        Use("ITD", "O", 99),
        Use("DTM", "O", 10),
        Use("TD5", "O", 12),
        _N9_LOOP,
        _N1_LOOP,
        Loop(
            "PO1",
            (
                Use("PO1", "M"),
                Use("CUR"),
                Loop("PID", (Use("PID", "M"),), "O", 1000),
                Use("PO4", "O", 99),
                Use("REF", "O", 99),
                Use("DTM", "O", 10),
                Loop("ACK", (Use("ACK", "M"), Use("DTM", "O", 1)), "O", 104),
                Use("SCH", "O", 200),
                Use("MSG", "O", 99),
                Loop(
                    "N1",
                    (
                        Use("N1", "M"),
                        Use("N2", "O", 2),
                        Use("N3", "O", 2),
                        Use("N4", "O", 1),
                        Use("REF", "O", 12),
                    ),
                    "O",
                    200,
                ),
            ),
            "O",
            100000,
        ),
        Loop("CTT", (Use("CTT", "M"), Use("AMT")), "O", 1),
    ),
    SEGMENTS,
)
"""855 Purchase Order Acknowledgment (004010 and 005010)."""

ASN_856 = SetSpec(
    "856",
    "Ship Notice/Manifest",
    "SH",
    (
        Use("BSN", "M"),
        Use("DTM", "O", 10),
        Loop(
            "HL",
            (
                Use("HL", "M"),
                Use("LIN"),
                Use("SN1"),
                Use("PRF"),
                Use("PO4", "O", 1),
                Use("PID", "O", 200),
                Use("TD1", "O", 20),
                Use("TD5", "O", 12),
                Use("TD3", "O", 12),
                Use("REF", "O", 200),
                Use("PER", "O", 200),
                Use("MAN", "O", 10),
                Use("DTM", "O", 10),
                Use("FOB", "O", 1),
                Use("PKG", "O", 200),
                Loop(
                    "N1",
                    (
                        Use("N1", "M"),
                        Use("N2", "O", 2),
                        Use("N3", "O", 2),
                        Use("N4", "O", 1),
                        Use("REF", "O", 12),
                        Use("PER", "O", 3),
                    ),
                    "O",
                    200,
                ),
            ),
            "M",
            200000,
        ),
        Use("CTT", "O", 1),
    ),
    SEGMENTS,
    hierarchical=True,
)
"""856 Ship Notice/Manifest with its HL hierarchy: shipment (S), order (O), tare (T), pack (P),
item (I)."""

INVOICE_810 = SetSpec(
    "810",
    "Invoice",
    "IN",
    (
        Use("BIG", "M"),
        Use("NTE", "O", 100),
        Use("CUR"),
        Use("REF", "O", 12),
        Use("PER", "O", 3),
        _N1_LOOP,
        Use("ITD", "O", 99),
        Use("DTM", "O", 10),
        Use("FOB"),
        Use("PID", "O", 200),
        Use("TD5", "O", 12),
        Loop(
            "IT1",
            (
                Use("IT1", "M"),
                Use("CUR"),
                Use("PO4", "O", 1),
                Use("TXI", "O", 10),
                Loop("PID", (Use("PID", "M"),), "O", 1000),
                Use("REF", "O", 99),
                Use("DTM", "O", 10),
                Loop("SAC", (Use("SAC", "M"), Use("TXI", "O", 10)), "O", 25),
                Loop(
                    "N1",
                    (
                        Use("N1", "M"),
                        Use("N2", "O", 2),
                        Use("N3", "O", 2),
                        Use("N4", "O", 1),
                        Use("REF", "O", 12),
                    ),
                    "O",
                    200,
                ),
            ),
            "M",
            200000,
        ),
        Use("TDS", "M"),
        Use("TXI", "O", 10),
        Use("CAD"),
        Use("AMT", "O", 10),
        Loop("SAC", (Use("SAC", "M"), Use("TXI", "O", 10)), "O", 25),
        Loop("ISS", (Use("ISS", "M"), Use("PID")), "O", 100),
        Use("CTT"),
    ),
    SEGMENTS,
)
"""810 Invoice (004010 and 005010)."""

FA_997 = SetSpec(
    "997",
    "Functional Acknowledgment",
    "FA",
    (
        Use("AK1", "M"),
        Loop(
            "AK2",
            (
                Use("AK2", "M"),
                Loop("AK3", (Use("AK3", "M"), Use("AK4", "O", 99)), "O", 999999),
                Use("AK5", "M"),
            ),
            "O",
            999999,
        ),
        Use("AK9", "M"),
    ),
    SEGMENTS,
)
"""997 Functional Acknowledgment (004010 and 005010)."""

SPECS: Mapping[str, SetSpec] = {
    spec.id: spec for spec in (PO_850, ACK_855, ASN_856, INVOICE_810, FA_997)
}
"""The sets the hub reads and writes, by transaction set identifier."""


def spec_for(set_id: str, specs: Mapping[str, SetSpec] | None = None) -> SetSpec | None:
    """The spec of a transaction set identifier (``"850"``), from `specs` or :data:`SPECS`."""
    return (SPECS if specs is None else specs).get(set_id)
