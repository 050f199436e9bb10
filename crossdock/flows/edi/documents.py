"""X12 documents of a trading partner: the interchange around outbound sets, and what an inbound
interchange's sets do (an 850 becomes an order through the intake every channel uses, a 997
settles the group of ours it answers), with the 997 (or TA1) answer queued in the same
transaction.

An interchange is read whole before anything is done with it, so a syntax error late in a file
imports nothing: the file is rejected with a TA1 naming the fault. A set with segment or element
errors is rejected on its own (its AK3/AK4 in the 997, an exception naming them) while the good
sets of the group go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Connection

from crossdock.config.edi import EdiPartner
from crossdock.connectors.edi.envelope import IsaHeader
from crossdock.connectors.edi.x12 import (
    Delimiters,
    FunctionalGroup,
    GroupEnd,
    GroupReport,
    Interchange,
    InterchangeEnd,
    SetRead,
    SetResult,
    TransactionSet,
    X12Error,
    X12SyntaxError,
    acknowledge,
    generate,
    gs_header,
    isa_header,
    parse,
    read_997,
    ta1,
)
from crossdock.connectors.edi.x12.mapping import MappingError, MappingProfile, order_from_850
from crossdock.flows.edi import store
from crossdock.flows.edi.inbound import ACTIONS, OWNER, Outcome, SetsHandler
from crossdock.flows.edi.outbound import ControlNumbers, record_outbound
from crossdock.flows.edi.outbound import acknowledge as settle
from crossdock.flows.exceptions import open_exception
from crossdock.flows.order_to_cash.accept import accept, intake
from crossdock.model import Order

log = structlog.get_logger("crossdock.edi")

SetMaker = Callable[[int], TransactionSet]
"""Makes a transaction set once its ST02 is known."""


def delimiters_of(partner: EdiPartner) -> Delimiters:
    d = partner.delimiters
    return Delimiters(
        element=d.element,
        component=d.sub_element,
        segment=d.segment,
        repetition=d.repetition if partner.version >= "005010" else None,
        suffix="\n" if d.line_break else "",
    )


def profile_of(partner: EdiPartner) -> MappingProfile:
    m = partner.mapping
    return MappingProfile(
        ship_to=m.ship_to_qualifier,
        bill_to=m.bill_to_qualifier,
        seller_item=m.product_qualifier,
        channel=partner.channel,
    )


def interchange_bytes(
    partner: EdiPartner,
    numbers: ControlNumbers,
    functional_id: str | None,
    sets: Sequence[TransactionSet],
    *,
    when: datetime,
    ta1_segments: Sequence[Any] = (),
) -> bytes:
    """Our interchange to ``partner``: ISA/GS from the profile, the numbers allocated for it."""
    ours, theirs = partner.ours, partner.theirs
    header = isa_header(
        (ours.isa_qualifier, ours.isa_id),
        (theirs.isa_qualifier, theirs.isa_id),
        numbers.interchange,
        version="00501" if partner.version >= "005010" else "00401",
        test=partner.usage == "T",
        when=when,
    )
    groups = []
    if sets and functional_id is not None:
        gs = gs_header(
            functional_id,
            ours.gs_id,
            theirs.gs_id,
            numbers.group,
            version=partner.version,
            when=when,
        )
        groups.append(FunctionalGroup(gs, list(sets)))
    interchange = Interchange(header, groups, delimiters_of(partner), ta1=list(ta1_segments))
    return generate(interchange, delimiters_of(partner))


def queue_sets(
    conn: Connection,
    name: str,
    partner: EdiPartner,
    set_id: str,
    functional_id: str,
    makers: Sequence[SetMaker],
    *,
    now: float,
    detail: dict[str, Any] | None = None,
) -> store.EdiFile:
    """Queue one interchange holding one group of ``set_id`` sets made by ``makers``."""
    when = datetime.fromtimestamp(now, UTC)

    def build(numbers: ControlNumbers) -> bytes:
        sets = [make(number) for make, number in zip(makers, numbers.sets, strict=True)]
        return interchange_bytes(partner, numbers, functional_id, sets, when=when)

    return record_outbound(
        conn, name, partner, build, sets=[set_id] * len(makers), now=now, detail=detail
    )


def _queue_ta1(
    conn: Connection, name: str, partner: EdiPartner, answer: Any, *, now: float, about: str
) -> None:
    when = datetime.fromtimestamp(now, UTC)

    def build(numbers: ControlNumbers) -> bytes:
        return interchange_bytes(partner, numbers, None, [], when=when, ta1_segments=[answer])

    record_outbound(conn, name, partner, build, sets=[], now=now, detail={"answers": about})


def _set_errors(result: SetResult) -> str:
    """A rejected set's errors: segment, position, element and rule, as a person reads them."""
    parts = [f"AK5 {','.join(result.codes)}"] if result.codes else []
    for error in result.segment_errors:
        where = f"{error.segment_id} (segment {error.position}): {error.message}"
        elements = "; ".join(
            f"{error.segment_id}{element.position:02d}: {element.message}"
            for element in error.elements
        )
        parts.append(f"{where}{' — ' + elements if elements else ''}")
    return "; ".join(parts) or "rejected"


def sets_handler(partners: dict[str, EdiPartner], *, partitions: Callable[[], int]) -> SetsHandler:
    """What an accepted interchange's sets do (see the module's docstring); ``partitions``
    answers the engine's partition count (agreed when it starts), for the orders' events."""

    def handle(conn: Connection, file: store.EdiFile, isa: IsaHeader, now: float) -> Outcome:
        name = file.partner
        partner = partners[name]
        profile = profile_of(partner)
        orders: list[tuple[str, Order]] = []
        acks: list[tuple[str, Any]] = []
        reports: list[GroupReport] = []
        rejected: list[str] = []
        refused: list[str] = []
        try:
            for event in parse(store.chunks(conn, file.id)):
                if isinstance(event, SetRead):
                    ts = event.transaction_set
                    label = f"{ts.id} {ts.control_number}"
                    if ts.result is not None and not ts.result.accepted:
                        rejected.append(f"{label}: {_set_errors(ts.result)}")
                    elif ts.id not in partner.receive:
                        refused.append(f"{label}: the profile does not receive {ts.id}")
                    elif ts.id == "850":
                        try:
                            orders.append(
                                (label, order_from_850(ts, partner=name, profile=profile))
                            )
                        except MappingError as exc:
                            refused.append(f"{label}: {exc}")
                    elif ts.id == "997":
                        acks.append((label, read_997(ts)))
                elif isinstance(event, GroupEnd):
                    if event.group.functional_id != "FA":  # a 997 is never acknowledged
                        reports.append(event.report)
                elif isinstance(event, InterchangeEnd) and not event.report.accepted:
                    raise X12SyntaxError(
                        "; ".join(event.report.messages) or "interchange envelope in error",
                        event.report.note_codes[0],
                        event.interchange.control_number,
                    )
        except X12SyntaxError as exc:
            _queue_ta1(
                conn,
                name,
                partner,
                ta1(exc, when=datetime.fromtimestamp(now, UTC)),
                now=now,
                about=file.id,
            )
            return Outcome("rejected", f"TA1 {exc.note_code}: {exc}")
        except X12Error as exc:
            return Outcome("rejected", str(exc))

        created = replayed = 0
        for label, order in orders:
            [answer] = accept(
                conn,
                [
                    intake(
                        order, f"edi:{name}:{order.external_ref}", None, f"edi:{name}", partitions()
                    )
                ],
            )
            if answer.conflict is not None:
                refused.append(f"{label}: PO {order.external_ref}: {answer.conflict}")
            elif answer.replayed:
                replayed += 1
            else:
                created += 1
        for label, fa in acks:
            verdicts = [
                f"{s.set_id} {s.control_number}: {s.status}"
                + (f" ({'; '.join(e.message for e in s.errors)})" if s.errors else "")
                for s in fa.sets
                if not s.accepted
            ]
            found = settle(
                conn,
                name,
                fa.group_control_number,
                accepted=fa.status in ("A", "E"),
                errors=verdicts or [f"AK9 {fa.status} {','.join(fa.codes)}".strip()],
                now=now,
            )
            if found is None:
                refused.append(f"{label}: answers group {fa.group_control_number}, none of ours")
        if reports and "997" in partner.send:
            version = partner.version

            def maker(report: GroupReport) -> SetMaker:
                return lambda number: acknowledge(report, number, version=version)

            queue_sets(
                conn,
                name,
                partner,
                "997",
                "FA",
                [maker(r) for r in reports],
                now=now,
                detail={"answers": file.id},
            )
        problems = rejected + refused
        if problems:
            open_exception(
                conn,
                type="edi_set_rejected",
                owner=OWNER,
                subject=f"edi-file:{file.id}",
                reason=f"partner {name}, file {file.name}: " + "; ".join(problems),
                actions=ACTIONS,
                now=now,
            )
        detail = {
            "orders": created,
            "orders_again": replayed,
            "acknowledgements": len(acks),
            "rejected_sets": len(rejected),
            "refused_sets": len(refused),
        }
        nothing_done = not (orders or acks) and bool(problems)
        if nothing_done:
            return Outcome("rejected", "; ".join(problems), detail)
        return Outcome("processed", "; ".join(problems) or None, detail)

    return handle
