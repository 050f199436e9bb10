"""Canonical mapping both ways: X12 transaction sets ⇄ the hub's canonical model.

=====  =====================================  =============================================
Set    Customer side (we sell)                Supplier side (we buy)
=====  =====================================  =============================================
850    :func:`order_from_850` /               :func:`purchase_order_to_850` /
       :func:`order_to_850`                   :func:`purchase_order_from_850`
855    :func:`acknowledgement_to_855` / :func:`acknowledgement_from_855`
       (:class:`SupplierAcknowledgement`: the seller's answer, line by line)
856    :func:`shipment_to_856` /              :func:`advance_ship_notice_from_856`
       :func:`shipment_from_856`
810    :func:`invoice_to_810` / :func:`invoice_from_810` (``direction`` says which side)
=====  =====================================  =============================================

Which N1 qualifier is the ship-to, which product id qualifier carries our SKU, how units map:
a partner's :class:`MappingProfile`, data. As seller our SKU is the vendor's item number
(``VN``); as buyer it is the buyer's part number (``BP``); reading falls back to the other
qualifiers listed in the profile. A set that cannot become a valid canonical object raises
:class:`MappingError` naming the segment and the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from crossdock.connectors.edi.x12.model import Segment, TransactionSet, X12Error
from crossdock.connectors.edi.x12.writer import st_header
from crossdock.model.billing import Invoice
from crossdock.model.order import Order
from crossdock.model.party import Address
from crossdock.model.procurement import (
    AdvanceShipNotice,
    PurchaseOrder,
    SupplierAcknowledgement,
)
from crossdock.model.shipment import Shipment

__all__ = [
    "DEFAULT_PROFILE",
    "MappingError",
    "MappingProfile",
    "acknowledgement_from_855",
    "acknowledgement_to_855",
    "advance_ship_notice_from_856",
    "functional_id",
    "invoice_from_810",
    "invoice_to_810",
    "order_from_850",
    "order_to_850",
    "purchase_order_from_850",
    "purchase_order_to_850",
    "shipment_from_856",
    "shipment_to_856",
]

_Model = TypeVar("_Model", bound=BaseModel)

DEFAULT_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "EA": "unit",
        "CA": "case",
        "BX": "box",
        "PK": "pack",
        "PL": "pallet",
        "DZ": "dozen",
        "PR": "pair",
        "KG": "kg",
        "LB": "lb",
        "GR": "g",
        "LT": "l",
        "MR": "m",
        "FT": "ft",
        "PC": "piece",
        "RL": "roll",
        "ST": "set",
    }
)
"""X12 units of measure (355) and the canonical units they are; others pass through as-is."""

DEFAULT_CHARGE_CODES: Mapping[str, str] = MappingProxyType(
    {
        "D240": "freight",  # Freight
        "G830": "freight",  # Shipping and Handling
        "D500": "handling",  # Handling
        "H090": "handling",  # Special Handling
        "D980": "insurance",  # Insurance
    }
)
"""X12 charge codes (1300, SAC02) and the charge types they are (:mod:`crossdock.model.charges`)."""


class MappingError(X12Error):
    """A transaction set that cannot become (or be made from) a canonical object.

    `segment_id` and `position` (ST is 1) locate the problem when it is in the set.
    """

    def __init__(self, message: str, segment_id: str | None = None, position: int | None = None):
        where = f" ({segment_id} at segment {position})" if segment_id and position else ""
        super().__init__(message + where)
        self.segment_id = segment_id
        self.position = position


@dataclass(frozen=True, slots=True)
class MappingProfile:
    """A trading partner's mapping overrides.

    `ship_to`, `bill_to`, `buyer`, `ship_from`, `supplier`: N101 entity codes. `seller_item`:
    the product id qualifier of our SKU when we sell (``VN``, ``VP``, ``UP``…), `buyer_item`
    when we buy (``BP``); `item_fallbacks`: other qualifiers read when those are absent.
    `tracking_reference`: the REF qualifier of a tracking number (``CN``, ``2I``, ``BM``).
    """

    ship_to: str = "ST"
    bill_to: str = "BT"
    buyer: str = "BY"
    ship_from: str = "SF"
    supplier: str = "SU"
    seller_item: str = "VN"
    buyer_item: str = "BP"
    item_fallbacks: tuple[str, ...] = ("VP", "VN", "SK", "IN", "BP", "UP", "EN", "CB")
    units: Mapping[str, str] = field(default_factory=lambda: DEFAULT_UNITS)
    currency: str = "USD"
    country: str = "US"
    channel: str = "edi"
    tracking_reference: str = "CN"
    package_marks: str = "GM"
    requested_delivery: str = "002"
    shipped: str = "011"
    estimated_delivery: str = "017"
    warehouse: str | None = None
    charge_codes: Mapping[str, str] = field(default_factory=lambda: DEFAULT_CHARGE_CODES)
    """SAC02 code of an 810's charge (``SAC01`` ``C``) -> charge type; others are ``other``."""

    def unit_in(self, code: str) -> str:
        """The canonical unit of an X12 unit code."""
        return self.units.get(code, code) if code else "unit"

    def unit_out(self, unit: str) -> str:
        """The X12 unit code of a canonical unit."""
        for code, name in self.units.items():
            if name == unit:
                return code
        if len(unit) == 2 and unit.isalnum():
            return unit.upper()
        raise MappingError(f"unit {unit!r} has no X12 code in the partner's units")


DEFAULT_PROFILE = MappingProfile()
"""The mapping most partners use (ST/BT/BY/SF, VN as seller, BP as buyer, EA = unit)."""

_FUNCTIONAL_IDS = {"850": "PO", "855": "PR", "856": "SH", "810": "IN", "997": "FA"}


# -- shared helpers ------------------------------------------------------------------------------


def _positioned(transaction_set: TransactionSet) -> Iterator[tuple[int, Segment]]:
    for index, segment in enumerate(transaction_set.segments):
        yield index + 2, segment


def _loops(
    segments: Sequence[tuple[int, Segment]], trigger: str, members: Iterable[str]
) -> list[list[tuple[int, Segment]]]:
    """Occurrences of a loop: from each `trigger` over the following `members`."""
    allowed = set(members)
    found: list[list[tuple[int, Segment]]] = []
    current: list[tuple[int, Segment]] | None = None
    for item in segments:
        if item[1].id == trigger:
            current = [item]
            found.append(current)
        elif current is not None and item[1].id in allowed:
            current.append(item)
        else:
            current = None
    return found


def _first(
    items: Iterable[tuple[int, Segment]],
    segment_id: str,
    qualifier: str | None = None,
) -> Segment | None:
    for _, segment in items:
        if segment.id == segment_id and (qualifier is None or segment.get(1) == qualifier):
            return segment
    return None


def _decimal(value: str, segment: str, position: int) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise MappingError(f"{value!r} is not a number", segment, position) from None
    if not number.is_finite():
        raise MappingError(f"{value!r} is not a number", segment, position)
    return number


def _cents(value: str, segment: str, position: int) -> Decimal:
    return _decimal(value, segment, position).scaleb(-2)


def _r(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _n2(number: Decimal) -> str:
    cents = number * 100
    if cents != cents.to_integral_value(ROUND_HALF_UP):
        raise MappingError(f"amount {number} has more than 2 decimals: not an X12 N2 amount")
    return str(int(cents))


def _date_in(value: str, segment: str, position: int) -> date:
    try:
        if len(value) == 8:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if len(value) == 6:
            return date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
    except ValueError:
        pass
    raise MappingError(f"{value!r} is not a date", segment, position)


def _dt(day: date) -> str:
    return day.strftime("%Y%m%d")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), UTC)


def _item(segment: Segment, start: int, qualifiers: Sequence[str]) -> str | None:
    """The product id of the first of `qualifiers` found in the pairs from `start` on."""
    pairs = {}
    for position in range(start, len(segment.elements) + 1, 2):
        qualifier, value = segment.get(position), segment.get(position + 1)
        if qualifier and value and qualifier not in pairs:
            pairs[qualifier] = value
    for qualifier in qualifiers:
        if qualifier in pairs:
            return pairs[qualifier]
    return None


def _pairs(*items: tuple[str, str | None]) -> list[str]:
    values: list[str] = []
    for qualifier, value in items:
        if value:
            values += [qualifier, value]
    return values


def _address(loop: Sequence[tuple[int, Segment]], profile: MappingProfile) -> Address | None:
    n1 = loop[0][1]
    n3 = _first(loop, "N3")
    n4 = _first(loop, "N4")
    if n3 is None or n4 is None or not n4.get(1) or not n4.get(3):
        return None
    n2 = _first(loop, "N2")
    per = _first(loop, "PER")
    phone = None
    if per is not None:
        for position in (3, 5, 7):
            if per.get(position) == "TE":
                phone = per.get(position + 1)
    try:
        return Address(
            company=n1.get(2) or None,
            name=n2.get(1) if n2 is not None else None,
            street=n3.get(1),
            street2=n3.get(2) or None,
            city=n4.get(1),
            region=n4.get(2) or None,
            postal_code=n4.get(3),
            country=n4.get(4) or profile.country,
            phone=phone,
        )
    except ValidationError as error:
        raise MappingError(f"address: {_errors(error)}", "N1", loop[0][0]) from None


def _n1_out(
    code: str,
    name: str | None,
    id_code: str | None,
    address: Address | None,
) -> list[Segment]:
    company = (address.company if address is not None else None) or name
    segments = [Segment.of("N1", code, company, "92" if id_code else None, id_code)]
    if address is None:
        return segments
    if address.name:
        segments.append(Segment.of("N2", address.name))
    segments.append(Segment.of("N3", address.street, address.street2))
    segments.append(
        Segment.of("N4", address.city, address.region, address.postal_code, address.country)
    )
    if address.phone:
        segments.append(Segment.of("PER", "IC", None, "TE", address.phone))
    return segments


def _party(segments: Sequence[tuple[int, Segment]], code: str) -> list[tuple[int, Segment]] | None:
    for loop in _loops(segments, "N1", ("N2", "N3", "N4", "REF", "PER")):
        if loop[0][1].get(1) == code:
            return loop
    return None


def _errors(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
    )


def _canonical(build: type[_Model], set_id: str, control: str, **values: object) -> _Model:
    try:
        return build(**values)
    except ValidationError as error:
        raise MappingError(
            f"{set_id} {control} is not a valid {build.__name__}: {_errors(error)}"
        ) from None


def _require(segment: Segment | None, segment_id: str, set_id: str) -> Segment:
    if segment is None:
        raise MappingError(f"{set_id} has no {segment_id}", segment_id, 0)
    return segment


def _messages(note: str | None) -> list[Segment]:
    if not note:
        return []
    text = " ".join(note.split())
    return [Segment.of("N9", "L1", "NOTE")] + [
        Segment.of("MSG", text[start : start + 264]) for start in range(0, len(text), 264)
    ]


def _note(segments: Sequence[tuple[int, Segment]]) -> str | None:
    texts = [segment.get(1) for _, segment in segments if segment.id == "MSG"]
    return " ".join(texts)[:4000] or None


def _transaction(set_id: str, control_number: int | str, body: list[Segment]) -> TransactionSet:
    return TransactionSet(st_header(set_id, control_number), body)


def functional_id(set_id: str) -> str:
    """The GS01 functional identifier of a transaction set (``850`` → ``PO``)."""
    return _FUNCTIONAL_IDS[set_id]


# -- 850 -----------------------------------------------------------------------------------------


def _po_lines(
    transaction_set: TransactionSet,
) -> list[list[tuple[int, Segment]]]:
    segments = list(_positioned(transaction_set))
    members = (
        "CUR",
        "PID",
        "PO4",
        "REF",
        "PER",
        "SAC",
        "ITD",
        "TAX",
        "FOB",
        "SCH",
        "DTM",
        "TD1",
        "TD5",
        "TD3",
        "MSG",
        "N9",
        "N1",
        "N2",
        "N3",
        "N4",
        "ACK",
    )
    return _loops(segments, "PO1", members)


def order_from_850(
    transaction_set: TransactionSet, *, partner: str, profile: MappingProfile = DEFAULT_PROFILE
) -> Order:
    """A customer's 850 as the canonical :class:`Order` (`external_ref` = BEG03, the PO number;
    the customer is the N1 buyer, or the `partner` itself)."""
    segments = [item for item in _positioned(transaction_set)]
    header = [item for item in segments if item[0] < _first_position(segments, "PO1")]
    beg = _require(_first(header, "BEG"), "BEG", "850")
    cur = _first(header, "CUR")
    buyer = _party(header, profile.buyer)
    ship_to = _party(header, profile.ship_to)
    bill_to = _party(header, profile.bill_to)
    requested = _first(header, "DTM", profile.requested_delivery)
    td5 = _first(header, "TD5")
    notes = [_note(header)]
    ship_address = _address(ship_to, profile) if ship_to else None
    if ship_to is not None and ship_address is None and ship_to[0][1].get(4):
        notes.append(f"ship to location {ship_to[0][1].get(3)} {ship_to[0][1].get(4)}")
    customer_name = (buyer[0][1].get(2) if buyer else None) or partner
    customer_ref = (buyer[0][1].get(4) if buyer else None) or partner
    lines = []
    for loop in _po_lines(transaction_set):
        position, po1 = loop[0]
        sku = _item(po1, 6, (profile.seller_item, *profile.item_fallbacks))
        if sku is None:
            raise MappingError("PO1 names no product id the profile reads", "PO1", position)
        if not po1.get(2) or not po1.get(4):
            raise MappingError("PO1 needs a quantity and a unit price", "PO1", position)
        pid = _first(loop, "PID")
        lines.append(
            {
                "line_ref": po1.get(1) or None,
                "sku": sku,
                "name": (pid.get(5) or None) if pid is not None else None,
                "quantity": _decimal(po1.get(2), "PO1", position),
                "uom": profile.unit_in(po1.get(3)),
                "unit_price": _decimal(po1.get(4), "PO1", position),
            }
        )
    total = _first(segments, "AMT", "TT")
    note = "; ".join(text for text in notes if text) or None
    return _canonical(
        Order,
        "850",
        transaction_set.control_number,
        external_ref=beg.get(3),
        channel=profile.channel,
        currency=(cur.get(2) if cur is not None else "") or profile.currency,
        customer={
            "external_ref": customer_ref,
            "name": customer_name,
            "address": _address(bill_to, profile) if bill_to else None,
        },
        lines=lines,
        ordered_at=_midnight(_date_in(beg.get(5), "BEG", 2)),
        requested_date=_date_in(requested.get(2), "DTM", 0) if requested else None,
        customer_reference=beg.get(3),
        shipping_address=ship_address,
        billing_address=None,
        shipping_method=(td5.get(5) or None) if td5 is not None else None,
        total_amount=_decimal(total.get(2), "AMT", 0) if total is not None else None,
        note=note,
    )


def _first_position(segments: Sequence[tuple[int, Segment]], segment_id: str) -> int:
    return next((position for position, segment in segments if segment.id == segment_id), 10**9)


def order_to_850(
    order: Order, control_number: int | str, *, profile: MappingProfile = DEFAULT_PROFILE
) -> TransactionSet:
    """An :class:`Order` as an 850 (BEG03 = the customer's reference, else `external_ref`)."""
    ordered = (order.ordered_at or datetime.now(UTC)).astimezone(UTC).date()
    body = [
        Segment.of(
            "BEG", "00", "SA", order.customer_reference or order.external_ref, None, _dt(ordered)
        )
    ]
    body.append(Segment.of("CUR", "BY", order.currency))
    if order.requested_date:
        body.append(Segment.of("DTM", profile.requested_delivery, _dt(order.requested_date)))
    if order.shipping_method:
        body.append(Segment.of("TD5", None, None, None, None, order.shipping_method[:35]))
    body += _messages(order.note)
    body += _n1_out(profile.buyer, order.customer.name, order.customer.external_ref, None)
    if order.shipping_address:
        body += _n1_out(profile.ship_to, order.customer.name, None, order.shipping_address)
    if order.customer.address:
        body += _n1_out(profile.bill_to, order.customer.name, None, order.customer.address)
    for number, line in enumerate(order.lines, start=1):
        body.append(
            Segment.of(
                "PO1",
                line.line_ref or str(number),
                _r(line.quantity),
                profile.unit_out(line.uom),
                _r(line.unit_price),
                None,
                profile.seller_item,
                line.sku,
            )
        )
        if line.name:
            body.append(Segment.of("PID", "F", None, None, None, line.name[:80]))
    body.append(Segment.of("CTT", str(len(order.lines))))
    if order.total_amount is not None:
        body.append(Segment.of("AMT", "TT", _r(order.total_amount)))
    return _transaction("850", control_number, body)


def purchase_order_to_850(
    purchase_order: PurchaseOrder,
    control_number: int | str,
    *,
    profile: MappingProfile = DEFAULT_PROFILE,
) -> TransactionSet:
    """Our :class:`PurchaseOrder` as an 850 to the supplier (our SKU as BP, theirs as VN)."""
    body = [
        Segment.of(
            "BEG", "00", "SA", purchase_order.external_ref, None, _dt(purchase_order.order_date)
        )
    ]
    body.append(Segment.of("CUR", "BY", purchase_order.currency))
    if purchase_order.incoterm:
        body.append(Segment.of("FOB", "DF", None, None, "01", purchase_order.incoterm))
    if purchase_order.expected_date:
        body.append(
            Segment.of("DTM", profile.requested_delivery, _dt(purchase_order.expected_date))
        )
    body += _messages(purchase_order.note)
    body += _n1_out(
        profile.ship_to, purchase_order.warehouse, purchase_order.warehouse, purchase_order.ship_to
    )
    body.append(Segment.of("N1", profile.supplier, None, "92", purchase_order.supplier_ref))
    for number, line in enumerate(purchase_order.lines, start=1):
        body.append(
            Segment.of(
                "PO1",
                line.line_number or str(number),
                _r(line.quantity),
                profile.unit_out(line.uom),
                _r(line.unit_price) if line.unit_price is not None else None,
                None,
                *_pairs((profile.buyer_item, line.sku), (profile.seller_item, line.supplier_sku)),
            )
        )
        if line.description:
            body.append(Segment.of("PID", "F", None, None, None, line.description[:80]))
        if line.expected_date:
            body.append(Segment.of("DTM", profile.requested_delivery, _dt(line.expected_date)))
    body.append(Segment.of("CTT", str(len(purchase_order.lines))))
    if purchase_order.total is not None:
        body.append(Segment.of("AMT", "TT", _r(purchase_order.total)))
    return _transaction("850", control_number, body)


def purchase_order_from_850(
    transaction_set: TransactionSet,
    *,
    supplier_ref: str,
    source: str = "edi",
    profile: MappingProfile = DEFAULT_PROFILE,
) -> PurchaseOrder:
    """An 850 read back as the :class:`PurchaseOrder` it carries (our SKU as BP)."""
    segments = list(_positioned(transaction_set))
    header = [item for item in segments if item[0] < _first_position(segments, "PO1")]
    beg = _require(_first(header, "BEG"), "BEG", "850")
    cur = _first(header, "CUR")
    fob = _first(header, "FOB")
    ship_to = _party(header, profile.ship_to)
    warehouse = (
        (ship_to[0][1].get(4) or ship_to[0][1].get(2)) if ship_to else None
    ) or profile.warehouse
    if not warehouse:
        raise MappingError("850 names no ship-to warehouse", "N1", 0)
    expected = _first(header, "DTM", profile.requested_delivery)
    lines = []
    for loop in _po_lines(transaction_set):
        position, po1 = loop[0]
        sku = _item(po1, 6, (profile.buyer_item, *profile.item_fallbacks))
        if sku is None:
            raise MappingError("PO1 names no product id the profile reads", "PO1", position)
        pid = _first(loop, "PID")
        line_date = _first(loop, "DTM", profile.requested_delivery)
        lines.append(
            {
                "line_number": po1.get(1) or None,
                "sku": sku,
                "supplier_sku": _item(po1, 6, (profile.seller_item,)),
                "description": (pid.get(5) or None) if pid is not None else None,
                "quantity": _decimal(po1.get(2), "PO1", position),
                "uom": profile.unit_in(po1.get(3)),
                "unit_price": _decimal(po1.get(4), "PO1", position) if po1.get(4) else None,
                "expected_date": _date_in(line_date.get(2), "DTM", position) if line_date else None,
            }
        )
    total = _first(segments, "AMT", "TT")
    return _canonical(
        PurchaseOrder,
        "850",
        transaction_set.control_number,
        external_ref=beg.get(3),
        source=source,
        supplier_ref=supplier_ref,
        status="sent",
        currency=(cur.get(2) if cur is not None else "") or profile.currency,
        order_date=_date_in(beg.get(5), "BEG", 2),
        expected_date=_date_in(expected.get(2), "DTM", 0) if expected else None,
        warehouse=warehouse,
        ship_to=_address(ship_to, profile) if ship_to else None,
        incoterm=(fob.get(5) or None) if fob is not None and fob.get(4) == "01" else None,
        lines=lines,
        total=_decimal(total.get(2), "AMT", 0) if total is not None else None,
        note=_note(header),
    )


# -- 855 -----------------------------------------------------------------------------------------

_LINE_STATUS_OUT = {"accepted": "IA", "changed": "IC", "rejected": "IR", "backordered": "IB"}
_LINE_STATUS_IN = {
    "IA": "accepted",
    "AC": "accepted",
    "IB": "backordered",
    "IR": "rejected",
    "ID": "rejected",
    "R1": "rejected",
    "R2": "rejected",
    "R3": "rejected",
    "R4": "rejected",
    "IC": "changed",
    "IQ": "changed",
    "IP": "changed",
    "DR": "changed",
    "IS": "changed",
    "IF": "changed",
    "IE": "changed",
    "IH": "changed",
    "IW": "changed",
    "SP": "changed",
    "BP": "changed",
    "AR": "changed",
}
_REJECTING_BAK = {"RD", "RJ", "RF", "RN", "RO", "RV", "RW"}


def acknowledgement_to_855(
    acknowledgement: SupplierAcknowledgement,
    control_number: int | str,
    *,
    order_date: date | None = None,
    seller: bool = True,
    profile: MappingProfile = DEFAULT_PROFILE,
) -> TransactionSet:
    """A :class:`SupplierAcknowledgement` as an 855: BAK (AD all accepted, AC with changes, RD
    rejected), one PO1 + ACK per line (IA accepted, IC changed, IR rejected, IB backordered).

    `seller` (we acknowledge a customer's order) writes our SKU as the seller's item, else as
    the buyer's; `order_date` is BAK04 (the PO's date; default the acknowledgement's)."""
    when = acknowledgement.acknowledged_at.astimezone(UTC).date()
    statuses = {line.status for line in acknowledgement.lines}
    if acknowledgement.status == "rejected":
        kind = "RD" if acknowledgement.lines else "RJ"
    elif acknowledgement.status == "accepted" and statuses <= {"accepted"}:
        kind = "AD" if acknowledgement.lines else "AK"
    else:
        kind = "AC"
    body = [
        Segment.of(
            "BAK",
            "00",
            kind,
            acknowledgement.purchase_order_ref,
            _dt(order_date or when),
            None,
            None,
            None,
            acknowledgement.external_ref,
            _dt(when),
        )
    ]
    body += _messages(acknowledgement.note)
    body.append(Segment.of("N1", profile.supplier, None, "92", acknowledgement.supplier_ref))
    qualifier = profile.seller_item if seller else profile.buyer_item
    for number, line in enumerate(acknowledgement.lines, start=1):
        unit = profile.unit_out(line.uom)
        body.append(
            Segment.of(
                "PO1",
                line.line_number or str(number),
                None,
                None,
                _r(line.unit_price) if line.unit_price is not None else None,
                None,
                qualifier,
                line.sku,
            )
        )
        body.append(
            Segment.of(
                "ACK",
                _LINE_STATUS_OUT[line.status],
                _r(line.quantity) if line.quantity is not None else None,
                unit if line.quantity is not None else None,
                profile.estimated_delivery if line.expected_date else None,
                _dt(line.expected_date) if line.expected_date else None,
            )
        )
    if acknowledgement.lines:
        body.append(Segment.of("CTT", str(len(acknowledgement.lines))))
    return _transaction("855", control_number, body)


def acknowledgement_from_855(
    transaction_set: TransactionSet,
    *,
    supplier_ref: str | None = None,
    source: str = "edi",
    seller: bool = False,
    profile: MappingProfile = DEFAULT_PROFILE,
) -> SupplierAcknowledgement:
    """An 855 as a :class:`SupplierAcknowledgement`, line statuses from ACK01.

    `seller` false (a supplier answers our PO) reads our SKU as the buyer's item."""
    segments = list(_positioned(transaction_set))
    header = [item for item in segments if item[0] < _first_position(segments, "PO1")]
    bak = _require(_first(header, "BAK"), "BAK", "855")
    supplier = _party(header, profile.supplier)
    qualifiers = ((profile.seller_item if seller else profile.buyer_item), *profile.item_fallbacks)
    lines = []
    for loop in _po_lines(transaction_set):
        position, po1 = loop[0]
        sku = _item(po1, 6, qualifiers)
        if sku is None:
            raise MappingError("PO1 names no product id the profile reads", "PO1", position)
        ack = _first(loop, "ACK")
        code = ack.get(1) if ack is not None else "IA"
        status = _LINE_STATUS_IN.get(code)
        if status is None:
            raise MappingError(
                f"ACK01 {code!r} is not a line status the hub knows", "ACK", position
            )
        quantity = ack.get(2) if ack is not None else ""
        day = ack.get(5) if ack is not None else ""
        lines.append(
            {
                "line_number": po1.get(1) or None,
                "sku": sku,
                "status": status,
                "quantity": _decimal(quantity, "ACK", position) if quantity else None,
                "uom": profile.unit_in((ack.get(3) if ack is not None else "") or po1.get(3)),
                "unit_price": _decimal(po1.get(4), "PO1", position) if po1.get(4) else None,
                "expected_date": _date_in(day, "ACK", position) if day else None,
            }
        )
    line_statuses = {str(line["status"]) for line in lines}
    overall: str
    if bak.get(2) in _REJECTING_BAK:
        overall = "rejected"
    elif len(line_statuses) == 1:
        overall = next(iter(line_statuses))
    elif line_statuses:
        overall = "changed"
    else:
        overall = "accepted"
    acknowledged = bak.get(9) or bak.get(4)
    return _canonical(
        SupplierAcknowledgement,
        "855",
        transaction_set.control_number,
        external_ref=bak.get(8) or bak.get(3),
        source=source,
        purchase_order_ref=bak.get(3),
        supplier_ref=supplier_ref or (supplier[0][1].get(4) if supplier else "") or source,
        status=overall,
        acknowledged_at=_midnight(_date_in(acknowledged, "BAK", 2)),
        lines=lines,
        note=_note(header),
    )


# -- 856 -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Level:
    number: str
    parent: str
    code: str
    segments: list[tuple[int, Segment]]


def _levels(transaction_set: TransactionSet) -> tuple[list[tuple[int, Segment]], list[_Level]]:
    header: list[tuple[int, Segment]] = []
    levels: list[_Level] = []
    for position, segment in _positioned(transaction_set):
        if segment.id == "HL":
            levels.append(_Level(segment.get(1), segment.get(2), segment.get(3), []))
        elif levels:
            levels[-1].segments.append((position, segment))
        else:
            header.append((position, segment))
    return header, levels


def _ancestor(levels: Mapping[str, _Level], level: _Level, code: str) -> _Level | None:
    current: _Level | None = level
    seen = 0
    while current is not None and seen < 100:
        if current.code == code:
            return current
        current = levels.get(current.parent)
        seen += 1
    return None


def shipment_to_856(
    shipment: Shipment,
    control_number: int | str,
    *,
    profile: MappingProfile = DEFAULT_PROFILE,
    when: datetime | None = None,
) -> TransactionSet:
    """A :class:`Shipment` as an 856: shipment (S) → order (O, PRF = `order_ref`) → packs (P,
    MAN with the SSCC) → items (I: LIN with our SKU and lot, SN1 quantity). Items hang under
    the pack when there is one package, else under the order (packs beside them)."""
    moment = (shipment.shipped_at or when or datetime.now(UTC)).astimezone(UTC)
    ship_day = shipment.ship_date or moment.date()
    # BSN04 is the time of shipment: midnight when only the day is known, so that the same
    # shipment always gives the same 856.
    clock = moment.strftime("%H%M") if shipment.shipped_at or not shipment.ship_date else "0000"
    single_pack = len(shipment.packages) == 1
    body = [
        Segment.of(
            "BSN",
            "00",
            shipment.external_ref,
            _dt(ship_day),
            clock,
            "0001" if single_pack else "0004",
        )
    ]
    body.append(Segment.of("HL", "1", None, "S"))
    if shipment.packages:
        body.append(Segment.of("TD1", "CTN", str(len(shipment.packages))))
    if shipment.carrier or shipment.service:
        body.append(
            Segment.of(
                "TD5",
                None,
                "2" if shipment.carrier else None,
                shipment.carrier,
                None,
                (shipment.service or "")[:35] or None,
            )
        )
    if shipment.tracking_number:
        body.append(Segment.of("REF", profile.tracking_reference, shipment.tracking_number))
    body.append(Segment.of("DTM", profile.shipped, _dt(ship_day)))
    if shipment.estimated_delivery_date:
        body.append(
            Segment.of("DTM", profile.estimated_delivery, _dt(shipment.estimated_delivery_date))
        )
    if shipment.ship_to:
        body += _n1_out(profile.ship_to, None, None, shipment.ship_to)
    body.append(Segment.of("N1", profile.ship_from, shipment.warehouse))
    counter = 2
    body.append(Segment.of("HL", "2", "1", "O"))
    if shipment.order_ref:
        body.append(Segment.of("PRF", shipment.order_ref))
    item_parent = "2"
    for package in shipment.packages:
        counter += 1
        body.append(Segment.of("HL", str(counter), "2", "P"))
        if package.weight_kg is not None:
            body.append(
                Segment.of("TD1", None, None, None, None, None, "G", _r(package.weight_kg), "KG")
            )
        if package.tracking_number:
            body.append(Segment.of("REF", profile.tracking_reference, package.tracking_number))
        if package.package_ref:
            body.append(Segment.of("MAN", profile.package_marks, package.package_ref))
        if single_pack:
            item_parent = str(counter)
    for line in shipment.lines:
        counter += 1
        body.append(Segment.of("HL", str(counter), item_parent, "I"))
        body.append(
            Segment.of(
                "LIN",
                line.order_line_ref,
                *_pairs((profile.seller_item, line.sku), ("LT", line.lot)),
            )
        )
        body.append(Segment.of("SN1", None, _r(line.quantity), profile.unit_out(line.uom)))
        for serial in line.serials:
            body.append(Segment.of("REF", "SE", serial))
    body.append(Segment.of("CTT", str(len(shipment.lines))))
    return _transaction("856", control_number, body)


def _items(
    levels: list[_Level], qualifiers: Sequence[str], profile: MappingProfile
) -> Iterator[tuple[_Level, dict[str, object]]]:
    by_number = {level.number: level for level in levels}
    for level in levels:
        if level.code != "I":
            continue
        lin = _first(level.segments, "LIN")
        sn1 = _first(level.segments, "SN1")
        position = level.segments[0][0] if level.segments else 0
        if lin is None or sn1 is None:
            raise MappingError(f"item level HL {level.number} needs LIN and SN1", "HL", position)
        sku = _item(lin, 2, qualifiers)
        if sku is None:
            raise MappingError("LIN names no product id the profile reads", "LIN", position)
        order = _ancestor(by_number, level, "O")
        pack = _ancestor(by_number, level, "P")
        prf = _first(order.segments, "PRF") if order is not None else None
        man = _first(pack.segments, "MAN", profile.package_marks) if pack is not None else None
        expiry = _first(level.segments, "DTM", "036")
        yield (
            level,
            {
                "sku": sku,
                "quantity": _decimal(sn1.get(2), "SN1", position),
                "uom": profile.unit_in(sn1.get(3)),
                "lot": _item(lin, 2, ("LT",)),
                "serials": [
                    segment.get(2)
                    for _, segment in level.segments
                    if segment.id == "REF" and segment.get(1) == "SE"
                ],
                "line_ref": lin.get(1) or None,
                "order_ref": prf.get(1) if prf is not None else None,
                "package_ref": man.get(2) if man is not None else None,
                "expiry": _date_in(expiry.get(2), "DTM", position) if expiry else None,
                "supplier_sku": _item(lin, 2, (profile.seller_item, "VP")),
            },
        )


def _shipment_header(
    transaction_set: TransactionSet, profile: MappingProfile
) -> tuple[Segment, list[tuple[int, Segment]], list[_Level]]:
    header, levels = _levels(transaction_set)
    bsn = _require(_first(header, "BSN"), "BSN", "856")
    shipment_level = next((level.segments for level in levels if level.code == "S"), [])
    return bsn, header + shipment_level, levels


def shipment_from_856(
    transaction_set: TransactionSet,
    *,
    source: str = "edi",
    profile: MappingProfile = DEFAULT_PROFILE,
) -> Shipment:
    """An 856 as a :class:`Shipment` (the inverse of :func:`shipment_to_856`)."""
    bsn, shipment_segments, levels = _shipment_header(transaction_set, profile)
    ship_from = _party(shipment_segments, profile.ship_from)
    warehouse = ((ship_from[0][1].get(2) or ship_from[0][1].get(4)) if ship_from else None) or (
        profile.warehouse
    )
    if not warehouse:
        raise MappingError("856 names no ship-from warehouse", "N1", 0)
    ship_to = _party(shipment_segments, profile.ship_to)
    td5 = _first(shipment_segments, "TD5")
    tracking = _first(shipment_segments, "REF", profile.tracking_reference)
    shipped = _first(shipment_segments, "DTM", profile.shipped)
    estimated = _first(shipment_segments, "DTM", profile.estimated_delivery)
    order = next((level for level in levels if level.code == "O"), None)
    prf = _first(order.segments, "PRF") if order is not None else None
    packages = []
    for level in levels:
        if level.code != "P":
            continue
        man = _first(level.segments, "MAN", profile.package_marks)
        td1 = _first(level.segments, "TD1")
        ref = _first(level.segments, "REF", profile.tracking_reference)
        weight = td1.get(7) if td1 is not None and td1.get(8) == "KG" else ""
        packages.append(
            {
                "package_ref": man.get(2) if man is not None else None,
                "tracking_number": ref.get(2) if ref is not None else None,
                "weight_kg": _decimal(weight, "TD1", 0) if weight else None,
            }
        )
    lines = [
        {
            "sku": item["sku"],
            "quantity": item["quantity"],
            "uom": item["uom"],
            "lot": item["lot"],
            "serials": item["serials"],
            "order_line_ref": item["line_ref"],
        }
        for _, item in _items(levels, (profile.seller_item, *profile.item_fallbacks), profile)
    ]
    return _canonical(
        Shipment,
        "856",
        transaction_set.control_number,
        external_ref=bsn.get(2),
        source=source,
        order_ref=prf.get(1) if prf is not None else None,
        warehouse=warehouse,
        status="shipped",
        ship_to=_address(ship_to, profile) if ship_to else None,
        lines=lines,
        carrier=(td5.get(3) or None) if td5 is not None else None,
        service=(td5.get(5) or None) if td5 is not None else None,
        tracking_number=tracking.get(2) if tracking is not None else None,
        ship_date=_date_in(shipped.get(2), "DTM", 0) if shipped else _date_in(bsn.get(3), "BSN", 2),
        estimated_delivery_date=_date_in(estimated.get(2), "DTM", 0) if estimated else None,
        packages=packages,
    )


def advance_ship_notice_from_856(
    transaction_set: TransactionSet,
    *,
    supplier_ref: str,
    source: str = "edi",
    profile: MappingProfile = DEFAULT_PROFILE,
) -> AdvanceShipNotice:
    """A supplier's 856 as an :class:`AdvanceShipNotice` (our SKU as the buyer's item; the
    warehouse is the ship-to's id or name, else the profile's)."""
    bsn, shipment_segments, levels = _shipment_header(transaction_set, profile)
    ship_to = _party(shipment_segments, profile.ship_to)
    warehouse = ((ship_to[0][1].get(4) or ship_to[0][1].get(2)) if ship_to else None) or (
        profile.warehouse
    )
    if not warehouse:
        raise MappingError("856 names no ship-to warehouse", "N1", 0)
    td5 = _first(shipment_segments, "TD5")
    tracking = _first(shipment_segments, "REF", profile.tracking_reference)
    shipped = _first(shipment_segments, "DTM", profile.shipped)
    estimated = _first(shipment_segments, "DTM", profile.estimated_delivery)
    lines = [
        {
            "sku": item["sku"],
            "supplier_sku": item["supplier_sku"],
            "quantity": item["quantity"],
            "uom": item["uom"],
            "purchase_order_ref": item["order_ref"],
            "purchase_order_line": item["line_ref"],
            "lot": item["lot"],
            "expiry_date": item["expiry"],
            "serials": item["serials"],
            "package_ref": item["package_ref"],
        }
        for _, item in _items(levels, (profile.buyer_item, *profile.item_fallbacks), profile)
    ]
    return _canonical(
        AdvanceShipNotice,
        "856",
        transaction_set.control_number,
        external_ref=bsn.get(2),
        source=source,
        supplier_ref=supplier_ref,
        status="in_transit",
        warehouse=warehouse,
        ship_date=_date_in(shipped.get(2), "DTM", 0) if shipped else _date_in(bsn.get(3), "BSN", 2),
        expected_arrival=_date_in(estimated.get(2), "DTM", 0) if estimated else None,
        carrier=(td5.get(3) or None) if td5 is not None else None,
        tracking_number=tracking.get(2) if tracking is not None else None,
        lines=lines,
    )


# -- 810 -----------------------------------------------------------------------------------------


def invoice_to_810(
    invoice: Invoice, control_number: int | str, *, profile: MappingProfile = DEFAULT_PROFILE
) -> TransactionSet:
    """An :class:`Invoice` as an 810: BIG (date, number, order reference; BIG07 ``CR`` for a
    credit note), IT1 per line (REF LI the order line, TXI the line tax, SAC the discount),
    TDS the total (N2), TXI the tax total. A line's `subtotal` is not carried."""
    seller = invoice.direction == "customer"
    body = [
        Segment.of(
            "BIG",
            _dt(invoice.invoice_date),
            invoice.external_ref,
            None,
            invoice.order_refs[0] if invoice.order_refs else None,
            None,
            None,
            "CR" if invoice.kind == "credit_note" else None,
        )
    ]
    body.append(Segment.of("CUR", "SE", invoice.currency))
    for extra in invoice.order_refs[1:]:
        body.append(Segment.of("REF", "PO", extra))
    if invoice.reversed_invoice_ref:
        body.append(Segment.of("REF", "OI", invoice.reversed_invoice_ref))
    body.append(
        Segment.of(
            "N1", profile.bill_to if seller else profile.supplier, None, "92", invoice.partner_ref
        )
    )
    if invoice.due_date:
        body.append(Segment.of("ITD", "01", "3", None, None, None, _dt(invoice.due_date)))
    qualifier = profile.seller_item if seller else profile.buyer_item
    for number, line in enumerate(invoice.lines, start=1):
        body.append(
            Segment.of(
                "IT1",
                str(number),
                _r(line.quantity),
                profile.unit_out(line.uom),
                _r(line.unit_price),
                None,
                *_pairs((qualifier, line.sku)),
            )
        )
        if line.tax_amount is not None:
            body.append(Segment.of("TXI", "TX", _r(line.tax_amount)))
        body.append(Segment.of("PID", "F", None, None, None, line.description[:80]))
        if line.order_line_ref:
            body.append(Segment.of("REF", "LI", line.order_line_ref))
        if line.discount_amount is not None:
            body.append(Segment.of("SAC", "A", "C310", None, None, _n2(line.discount_amount)))
    total = invoice.total
    if total is None and invoice.subtotal is not None:
        total = invoice.subtotal + (invoice.tax_total or Decimal(0))
    if total is None:
        raise MappingError(f"invoice {invoice.external_ref} has no total for TDS01")
    body.append(Segment.of("TDS", _n2(total)))
    if invoice.tax_total is not None:
        body.append(Segment.of("TXI", "TX", _r(invoice.tax_total)))
    body.append(Segment.of("CTT", str(len(invoice.lines))))
    return _transaction("810", control_number, body)


def invoice_from_810(
    transaction_set: TransactionSet,
    *,
    source: str = "edi",
    direction: str = "supplier",
    partner_ref: str | None = None,
    profile: MappingProfile = DEFAULT_PROFILE,
) -> Invoice:
    """An 810 as an :class:`Invoice` (`direction` ``supplier``: a supplier bills us, our SKU as
    the buyer's item; ``customer``: the inverse of :func:`invoice_to_810`)."""
    segments = list(_positioned(transaction_set))
    first_line = _first_position(segments, "IT1")
    summary_start = _first_position(segments, "TDS")
    header = [item for item in segments if item[0] < first_line]
    summary = [item for item in segments if item[0] >= summary_start]
    big = _require(_first(header, "BIG"), "BIG", "810")
    cur = _first(header, "CUR")
    seller = direction == "customer"
    party = _party(header, profile.bill_to if seller else profile.supplier)
    partner = (
        partner_ref or ((party[0][1].get(4) or party[0][1].get(2)) if party else None) or source
    )
    itd = _first(header, "ITD")
    qualifiers = ((profile.seller_item if seller else profile.buyer_item), *profile.item_fallbacks)
    members = ("CUR", "PO4", "TXI", "PID", "REF", "DTM", "SAC", "N1", "N2", "N3", "N4")
    lines = []
    for loop in _loops([item for item in segments if item[0] < summary_start], "IT1", members):
        position, it1 = loop[0]
        pid = _first(loop, "PID")
        txi = _first(loop, "TXI")
        ref = _first(loop, "REF", "LI")
        sac = _first(loop, "SAC", "A")
        sku = _item(it1, 6, qualifiers)
        description = (pid.get(5) if pid is not None else "") or sku or "item"
        if not it1.get(2) or not it1.get(4):
            raise MappingError("IT1 needs a quantity and a unit price", "IT1", position)
        lines.append(
            {
                "sku": sku,
                "description": description,
                "quantity": _decimal(it1.get(2), "IT1", position),
                "uom": profile.unit_in(it1.get(3)),
                "unit_price": _decimal(it1.get(4), "IT1", position),
                "tax_amount": _decimal(txi.get(2), "TXI", position) if txi and txi.get(2) else None,
                "discount_amount": _cents(sac.get(5), "SAC", position)
                if sac and sac.get(5)
                else None,
                "order_line_ref": ref.get(2) if ref is not None else None,
            }
        )
    charges = [
        {
            "type": profile.charge_codes.get(segment.get(2), "other"),
            "amount": _cents(segment.get(5), "SAC", position),
            # an unknown code is kept in the label of the "other" charge it becomes
            "description": segment.get(15)
            or (None if segment.get(2) in profile.charge_codes else f"SAC {segment.get(2)}"),
        }
        for position, segment in segments
        if segment.id == "SAC" and segment.get(1) == "C" and segment.get(5)
    ]
    tds = _require(_first(summary, "TDS"), "TDS", "810")
    total = _cents(tds.get(1), "TDS", 0)
    taxes = [
        _decimal(segment.get(2), "TXI", position)
        for position, segment in summary
        if segment.id == "TXI" and segment.get(2)
    ]
    tax_total = sum(taxes, Decimal(0)) if taxes else None
    order_refs = [big.get(4)] if big.get(4) else []
    order_refs += [
        segment.get(2) for _, segment in header if segment.id == "REF" and segment.get(1) == "PO"
    ]
    reversed_ref = _first(header, "REF", "OI")
    return _canonical(
        Invoice,
        "810",
        transaction_set.control_number,
        external_ref=big.get(2),
        source=source,
        kind="credit_note" if big.get(7) == "CR" else "invoice",
        direction=direction,
        partner_ref=partner,
        order_refs=order_refs,
        reversed_invoice_ref=reversed_ref.get(2) if reversed_ref is not None else None,
        currency=(cur.get(2) if cur is not None else "") or profile.currency,
        invoice_date=_date_in(big.get(1), "BIG", 2),
        due_date=_date_in(itd.get(6), "ITD", 0) if itd is not None and itd.get(6) else None,
        lines=lines,
        subtotal=total - tax_total if tax_total is not None else None,
        tax_total=tax_total,
        total=total,
        charges=charges,
    )
