"""The X12 codec: a streaming parser, a generator, declarative transaction sets, validation with
997/TA1 acknowledgements, and the mapping to and from the canonical model.

Reading::

    for event in parse(path_or_file_or_chunks):      # streamed, any size
        match event:
            case InterchangeStart(interchange): ...  # ISA read: sender, receiver, delimiters
            case SetRead(transaction_set): ...       # .result: SetResult (accepted? AK3/AK4 errors)
            case GroupEnd(group, report): acknowledge(report, st_control)   # the 997 set
            case InterchangeEnd(interchange, report): ta1(report, interchange.header)

    interchanges = load(data)       # the same, collected: Interchange → groups → sets (+ reports)

Writing::

    interchange = Interchange(isa_header(sender, receiver, 17), [
        FunctionalGroup(gs_header("PR", "HUB", "ACME", 9), [order_acknowledgement_to_855(...)])
    ], Delimiters("*", ">", "~", "^", "\\n"))
    data = generate(interchange)    # trailers (SE/GE/IEA counts) computed; delimiters refused

Mapping (:mod:`.mapping`): 850 ⇄ :class:`~crossdock.model.order.Order` /
:class:`~crossdock.model.procurement.PurchaseOrder`, 855 ⇄ :class:`OrderAcknowledgement` /
:class:`~crossdock.model.procurement.SupplierAcknowledgement`, 856 ⇄
:class:`~crossdock.model.shipment.Shipment` /
:class:`~crossdock.model.procurement.AdvanceShipNotice`, 810 ⇄
:class:`~crossdock.model.billing.Invoice`; partner overrides in :class:`MappingProfile`;
:func:`functional_id` gives a set's GS01 (``850`` → ``PO``).
"""

from crossdock.connectors.edi.x12.ack import (
    FunctionalAck,
    InterchangeAck,
    SetAck,
    acknowledge,
    read_997,
    read_ta1,
    ta1,
)
from crossdock.connectors.edi.x12.mapping import (
    DEFAULT_PROFILE,
    MappingError,
    MappingProfile,
    acknowledgement_from_855,
    acknowledgement_to_855,
    advance_ship_notice_from_856,
    functional_id,
    invoice_from_810,
    invoice_to_810,
    order_from_850,
    order_to_850,
    purchase_order_from_850,
    purchase_order_to_850,
    shipment_from_856,
    shipment_to_856,
)
from crossdock.connectors.edi.x12.model import (
    Composite,
    Delimiters,
    Element,
    ElementError,
    FunctionalGroup,
    GroupReport,
    Interchange,
    InterchangeReport,
    Repetition,
    Segment,
    SegmentError,
    SetResult,
    TransactionSet,
    X12Error,
    X12SyntaxError,
)
from crossdock.connectors.edi.x12.reader import (
    Event,
    GroupEnd,
    GroupStart,
    InterchangeEnd,
    InterchangeStart,
    SetRead,
    Source,
    TA1Read,
    load,
    parse,
)
from crossdock.connectors.edi.x12.sets import SEGMENTS, SPECS, spec_for
from crossdock.connectors.edi.x12.spec import (
    ElementSpec,
    Loop,
    SegmentSpec,
    SetSpec,
    Use,
    validate,
    vary,
)
from crossdock.connectors.edi.x12.writer import (
    encode_segment,
    generate,
    gs_header,
    isa_header,
    iter_generate,
    st_header,
    write,
)

__all__ = [
    "DEFAULT_PROFILE",
    "SEGMENTS",
    "SPECS",
    "Composite",
    "Delimiters",
    "Element",
    "ElementError",
    "ElementSpec",
    "Event",
    "FunctionalAck",
    "FunctionalGroup",
    "GroupEnd",
    "GroupReport",
    "GroupStart",
    "Interchange",
    "InterchangeAck",
    "InterchangeEnd",
    "InterchangeReport",
    "InterchangeStart",
    "Loop",
    "MappingError",
    "MappingProfile",
    "Repetition",
    "Segment",
    "SegmentError",
    "SegmentSpec",
    "SetAck",
    "SetRead",
    "SetResult",
    "SetSpec",
    "Source",
    "TA1Read",
    "TransactionSet",
    "Use",
    "X12Error",
    "X12SyntaxError",
    "acknowledge",
    "acknowledgement_from_855",
    "acknowledgement_to_855",
    "advance_ship_notice_from_856",
    "encode_segment",
    "functional_id",
    "generate",
    "gs_header",
    "invoice_from_810",
    "invoice_to_810",
    "isa_header",
    "iter_generate",
    "load",
    "order_from_850",
    "order_to_850",
    "parse",
    "purchase_order_from_850",
    "purchase_order_to_850",
    "read_997",
    "read_ta1",
    "shipment_from_856",
    "shipment_to_856",
    "spec_for",
    "st_header",
    "ta1",
    "validate",
    "vary",
    "write",
]
