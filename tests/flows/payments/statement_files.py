"""Bank statements written for tests: CAMT.053 files of any size, in the layout of
``data/camt053_statement.xml``, streamed to disk entry by entry."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>{id}</MsgId><CreDtTm>2026-12-04T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>{id}</Id><CreDtTm>2026-12-04T18:00:00</CreDtTm>
<Acct><Id><IBAN>BE68539007547034</IBAN></Id><Ccy>{currency}</Ccy></Acct>
"""
ENTRY = """<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-12-04</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties>
<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
"""
TAIL = "</Stmt></BkToCstmrStmt></Document>\n"


def write_camt053(
    path: Path,
    statement_id: str,
    entries: Iterable[tuple[str, str, str, str]],
    *,
    currency: str = "USD",
) -> Path:
    """``entries``: (bank reference, amount, payer, remittance text) per credit."""
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD.format(id=statement_id, currency=currency))
        for ref, amount, payer, text in entries:
            out.write(
                ENTRY.format(
                    currency=currency,
                    amount=amount,
                    ref=escape(ref),
                    payer=escape(payer),
                    text=escape(text),
                )
            )
        out.write(TAIL)
    return path
