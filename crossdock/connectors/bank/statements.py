"""Bank statements read entry by entry, never whole: CAMT.053 XML and CSV.

**CAMT.053** (ISO 20022 ``BkToCstmrStmt``, any ``camt.053.001.xx`` version): read with
``iterparse``; each ``Ntry`` is handled when it ends and then dropped. An entry's amount and
currency are ``Amt`` and ``Amt/@Ccy``; ``CdtDbtInd`` ``CRDT`` is money in (``captured``),
``DBIT`` money out (``refunded``: a refund paid, or anything else to reconcile); only booked
entries count (``Sts`` ``BOOK``, or ``Sts/Cd`` from version 08). The reference is the structured
creditor reference (``CdtrRefInf/Ref``) and the unstructured remittance text (``Ustrd``); the
counterparty is the debtor of a credit, the creditor of a debit. The entry's key is the bank's
``AcctSvcrRef`` (else the statement id and the entry's position), so a statement imported twice
reports the same payments. A document with a DTD is refused (statements have none; entity
expansion is an attack).

**CSV** (UTF-8, a header line, ``,`` or ``;``): columns ``date`` (ISO), ``amount`` (signed:
negative is a debit; ``.`` or ``,`` as the decimal mark), ``currency``, and optionally ``id``,
``reference``, ``name``, ``customer``. The key of a line without ``id`` is the file's SHA-256 and
the line number.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, ParseError, iterparse

from crossdock.connectors.gateway.report import GatewayError, PaymentReport

__all__ = ["StatementInfo", "read_camt053", "read_csv", "sniff"]

SOURCE = "bank"
HEAD_BYTES = 4096


@dataclass
class StatementInfo:
    """What the reader learnt about the statement while reading it."""

    format: str
    statement_id: str = ""
    account: str | None = None
    entries: int = 0
    credits: int = 0
    debits: int = 0
    skipped: int = 0
    """Entries not booked (pending, information only)."""
    digest: str = ""
    lines: list[int] = field(default_factory=list)


def sniff(head: bytes) -> str | None:
    """``camt053`` or ``csv`` from the first bytes of a file; None when neither."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "camt053" if b"camt.053" in head else None
    first = text.split(b"\n", 1)[0].lower()
    return "csv" if b"amount" in first and b"currency" in first else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element: Element, path: str) -> Element | None:
    """The first descendant along ``path`` (local names, ``/``-separated), any namespace."""
    current: Element | None = element
    for name in path.split("/"):
        if current is None:
            return None
        current = next((c for c in current if _local(c.tag) == name), None)
    return current


def _text(element: Element, path: str) -> str | None:
    found = _find(element, path)
    return found.text.strip() if found is not None and found.text else None


def _all_text(element: Element, name: str) -> list[str]:
    return [e.text.strip() for e in element.iter() if _local(e.tag) == name and e.text]


def _when(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(value[:10]).replace(tzinfo=UTC)
    except ValueError:
        return datetime.now(UTC)


def read_camt053(path: Path, info: StatementInfo) -> Iterator[PaymentReport]:
    """The booked entries of a CAMT.053 file, one report each (``GatewayError`` when the file
    is not a readable statement: the pointer names the entry)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise GatewayError("/", "no_dtd", "a statement with a DTD or entities is refused")
    stack: list[str] = []
    try:
        for event, element in iterparse(str(path), events=("start", "end")):
            name = _local(element.tag)
            if event == "start":
                stack.append(name)
                continue
            stack.pop()
            parent = stack[-1] if stack else ""
            if name == "Id" and parent == "Stmt":
                info.statement_id = (element.text or "").strip()
            elif name == "Acct" and parent == "Stmt":
                info.account = _text(element, "Id/IBAN") or _text(element, "Id/Othr/Id")
                element.clear()
            elif name == "Ntry":
                info.entries += 1
                report = _entry(element, info)
                element.clear()
                if report is not None:
                    yield report
            elif name == "Stmt":
                element.clear()
    except ParseError as exc:
        raise GatewayError("/", "xml", f"not well-formed XML: {exc}") from None


def _entry(entry: Element, info: StatementInfo) -> PaymentReport | None:
    where = f"/Stmt/Ntry[{info.entries}]"
    status = _text(entry, "Sts") or _text(entry, "Sts/Cd")
    if status is not None and status != "BOOK":
        info.skipped += 1
        return None
    amount_el = _find(entry, "Amt")
    try:
        amount = Decimal((amount_el.text or "").strip()) if amount_el is not None else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise GatewayError(f"{where}/Amt", "amount", "a non-negative decimal amount")
    assert amount_el is not None
    currency = (amount_el.get("Ccy") or "").upper()
    if len(currency) != 3:
        raise GatewayError(f"{where}/Amt/@Ccy", "currency", "an ISO 4217 code")
    side = _text(entry, "CdtDbtInd")
    if side not in ("CRDT", "DBIT"):
        raise GatewayError(f"{where}/CdtDbtInd", "enum", "CRDT or DBIT")
    credit = side == "CRDT"
    info.credits += credit
    info.debits += not credit
    details = _find(entry, "NtryDtls/TxDtls")
    refs = []
    party = None
    if details is not None:
        refs = _all_text(details, "Ref") + _all_text(details, "Ustrd")
        party = _text(details, "RltdPties/Dbtr/Nm" if credit else "RltdPties/Cdtr/Nm") or _text(
            details, "RltdPties/Dbtr/Pty/Nm" if credit else "RltdPties/Cdtr/Pty/Nm"
        )
    refs += _all_text(entry, "AddtlNtryInf")
    key = _text(entry, "AcctSvcrRef") or f"{info.statement_id}:{info.entries}"
    return PaymentReport(
        payment_id=f"{SOURCE}:{info.account or '-'}:{key}",
        source=SOURCE,
        kind="captured" if credit else "refunded",
        amount=amount,
        currency=currency,
        reference=" ".join(dict.fromkeys(refs))[:500] or None,
        customer=party,
        occurred_at=_when(_text(entry, "BookgDt/Dt") or _text(entry, "BookgDt/DtTm")),
        provider_ref=key,
    )


_COLUMNS = ("date", "amount", "currency")


def read_csv(path: Path, info: StatementInfo) -> Iterator[PaymentReport]:
    """The lines of a CSV statement, one report each (see the module documentation)."""
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        for chunk in iter(lambda: raw.read(1 << 20), b""):
            digest.update(chunk)
    info.digest = digest.hexdigest()
    info.statement_id = info.statement_id or f"csv:{info.digest[:16]}"
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        yield from _csv_rows(handle, info)


def _csv_rows(handle: IO[str], info: StatementInfo) -> Iterator[PaymentReport]:
    first = handle.readline()
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header = [h.strip().lower() for h in next(csv.reader(io.StringIO(first), delimiter=delimiter))]
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise GatewayError("/line/1", "columns", f"the header lacks {', '.join(missing)}")
    for number, values in enumerate(csv.reader(handle, delimiter=delimiter), start=2):
        if not any(v.strip() for v in values):
            continue
        row = dict(zip(header, (v.strip() for v in values), strict=False))
        info.entries += 1
        yield _csv_line(row, number, info)


def _csv_line(row: dict[str, str], number: int, info: StatementInfo) -> PaymentReport:
    where = f"/line/{number}"
    text = row.get("amount", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        signed = Decimal(text)
    except InvalidOperation:
        raise GatewayError(f"{where}/amount", "amount", f"not a decimal amount: {text!r}") from None
    if not signed.is_finite() or signed == 0:
        raise GatewayError(f"{where}/amount", "amount", "a non-zero decimal amount")
    currency = row.get("currency", "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise GatewayError(f"{where}/currency", "currency", "an ISO 4217 code")
    try:
        day = date.fromisoformat(row.get("date", ""))
    except ValueError:
        raise GatewayError(f"{where}/date", "date", "an ISO date (2026-12-05)") from None
    credit = signed > 0
    info.credits += credit
    info.debits += not credit
    key = row.get("id") or f"{info.digest[:16]}:{number}"
    return PaymentReport(
        payment_id=f"{SOURCE}:csv:{key}"[:180],
        source=SOURCE,
        kind="captured" if credit else "refunded",
        amount=abs(signed),
        currency=currency,
        reference=(row.get("reference") or "")[:500] or None,
        customer=row.get("customer") or row.get("name") or None,
        occurred_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
        provider_ref=key,
    )
