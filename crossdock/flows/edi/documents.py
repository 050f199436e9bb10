"""X12 documents of a trading partner: the interchange around outbound sets, and the two
phases of an inbound interchange once its envelope is accepted.

1. Parse (``received`` → ``parsed``): the interchange is read whole and answered: a 997 per
   group (AK2 per set, AK3/AK4 naming the segment and element of each error) is queued in the
   same transaction. A set with errors is rejected on its own, named in an exception, while the
   good sets of the group go on. A broken envelope imports nothing: a TA1 is queued and the file
   is rejected.
2. Apply (``parsed`` → ``processed``): each accepted 850 becomes an order through the intake
   every channel uses (idempotency key ``edi:<partner>:<PO>``, so a re-sent PO makes no second
   order), each 997 settles the group of ours it answers, and a supplier partner's 855, 856 and
   810 go to procure-to-stock (:mod:`.supplier_documents`).

Apart, so that the partner gets its 997 even while the business side keeps failing; each phase
is one transaction, so each happens exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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
from crossdock.flows.edi.inbound import ACTIONS, OWNER, Documents, FileOutcome
from crossdock.flows.edi.outbound import ControlNumbers, record_outbound
from crossdock.flows.edi.outbound import acknowledge as settle
from crossdock.flows.edi.supplier_documents import SUPPLIER_SETS, receive_supplier_set
from crossdock.flows.exceptions import open_exception
from crossdock.flows.order_to_cash.accept import accept, intake

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


def _read(conn: Connection, file: store.EdiFile) -> tuple[int, list[GroupReport], list[str]]:
    """The interchange read whole, streamed: how many sets are accepted, the reports of its
    groups (for the 997) and its rejected sets described. Raises X12SyntaxError when the
    envelope is broken."""
    accepted = 0
    reports: list[GroupReport] = []
    rejected: list[str] = []
    for event in parse(store.chunks(conn, file.id)):
        if isinstance(event, SetRead):
            ts = event.transaction_set
            if ts.result is not None and not ts.result.accepted:
                rejected.append(f"{ts.id} {ts.control_number}: {_set_errors(ts.result)}")
            else:
                accepted += 1
        elif isinstance(event, GroupEnd):
            if event.group.functional_id != "FA":  # a 997 is never acknowledged
                reports.append(event.report)
        elif isinstance(event, InterchangeEnd) and not event.report.accepted:
            raise X12SyntaxError(
                "; ".join(event.report.messages) or "interchange envelope in error",
                event.report.note_codes[0],
                event.interchange.control_number,
            )
    return accepted, reports, rejected


def _accepted_sets(conn: Connection, file: store.EdiFile) -> Iterator[TransactionSet]:
    """The accepted sets of a parsed file, one at a time (its envelope was checked whole)."""
    for event in parse(store.chunks(conn, file.id)):
        if isinstance(event, SetRead):
            result = event.transaction_set.result
            if result is None or result.accepted:
                yield event.transaction_set


def _problems(conn: Connection, file: store.EdiFile, problems: list[str], now: float) -> None:
    open_exception(
        conn,
        type="edi_set_rejected",
        owner=OWNER,
        subject=f"edi-file:{file.id}",
        reason=f"partner {file.partner}, file {file.name}: " + "; ".join(problems),
        actions=ACTIONS,
        now=now,
    )


def documents(partners: dict[str, EdiPartner], *, partitions: Callable[[], int]) -> Documents:
    """The two phases of an accepted interchange (see the module's docstring); ``partitions``
    answers the engine's partition count (agreed when it starts), for the orders' events."""

    def parse_phase(
        conn: Connection, file: store.EdiFile, isa: IsaHeader, now: float
    ) -> FileOutcome:
        name = file.partner
        partner = partners[name]
        when = datetime.fromtimestamp(now, UTC)
        try:
            accepted, reports, rejected = _read(conn, file)
        except X12SyntaxError as exc:
            _queue_ta1(conn, name, partner, ta1(exc, when=when), now=now, about=file.id)
            return FileOutcome("rejected", f"TA1 {exc.note_code}: {exc}")
        except X12Error as exc:
            return FileOutcome("rejected", str(exc))
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
        if rejected:
            _problems(conn, file, rejected, now)
        detail = {"sets": accepted + len(rejected), "rejected_sets": len(rejected)}
        if not accepted:
            return FileOutcome("rejected", "; ".join(rejected) or "no transaction set", detail)
        return FileOutcome("parsed", "; ".join(rejected) or None, detail)

    def apply_phase(conn: Connection, file: store.EdiFile, now: float) -> FileOutcome:
        name = file.partner
        partner = partners[name]
        profile = profile_of(partner)
        refused: list[str] = []
        created = replayed = acks = supplied = supplied_again = 0
        for ts in _accepted_sets(conn, file):
            label = f"{ts.id} {ts.control_number}"
            if ts.id not in partner.receive:
                refused.append(f"{label}: the profile does not receive {ts.id}")
            elif ts.id == "850":
                try:
                    order = order_from_850(ts, partner=name, profile=profile)
                except MappingError as exc:
                    refused.append(f"{label}: {exc}")
                    continue
                key = f"edi:{name}:{order.external_ref}"
                [answer] = accept(conn, [intake(order, key, None, f"edi:{name}", partitions())])
                if answer.conflict is not None:
                    refused.append(f"{label}: PO {order.external_ref}: {answer.conflict}")
                elif answer.replayed:
                    replayed += 1
                else:
                    created += 1
            elif ts.id == "997":
                fa = read_997(ts)
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
                    refused.append(
                        f"{label}: answers group {fa.group_control_number}, none of ours"
                    )
                else:
                    acks += 1
            elif ts.id in SUPPLIER_SETS and partner.supplier is not None:
                got = receive_supplier_set(
                    conn, name, partner, ts, profile=profile, now=now, partitions=partitions
                )
                if got.result == "refused":
                    refused.append(got.reason or label)
                elif got.result == "again":
                    supplied_again += 1
                else:
                    supplied += 1
            else:
                refused.append(f"{label}: the hub does not take {ts.id} from partners")
        if refused:
            _problems(conn, file, refused, now)
        detail = {
            "orders": created,
            "orders_again": replayed,
            "acknowledgements": acks,
            "refused_sets": len(refused),
        }
        if partner.supplier is not None:
            detail.update(supplier_documents=supplied, supplier_documents_again=supplied_again)
        if refused and not (created or replayed or acks or supplied or supplied_again):
            return FileOutcome("rejected", "; ".join(refused), detail)
        reason = "; ".join(filter(None, [file.reason, *refused])) or None
        return FileOutcome("processed", reason, detail)

    return Documents(parse_phase, apply_phase)
