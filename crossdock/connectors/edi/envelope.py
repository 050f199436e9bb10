"""The ISA header of an interchange, read before any parsing: who sent it, to whom, its control
number and test indicator, and the delimiters the rest of it uses.

ISA is fixed width (106 characters, element separator at offset 3, sub-element separator at 104,
segment terminator at 105), which is what makes its fields readable without a grammar.
"""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.connectors.edi.errors import NotAnInterchange

ISA_LENGTH = 106


@dataclass(frozen=True, slots=True)
class IsaHeader:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    version: str
    control: str
    usage: str
    element: str
    sub_element: str
    segment: str


def read_isa(head: bytes) -> IsaHeader:
    """The ISA of an interchange whose first bytes are ``head`` (leading whitespace allowed)."""
    text = head.lstrip(b" \t\r\n\xef\xbb\xbf")[:ISA_LENGTH].decode("latin-1")
    if not text.startswith("ISA") or len(text) < ISA_LENGTH:
        raise NotAnInterchange("ISA: the file does not start with a complete ISA segment")
    element = text[3]
    fields = text[: ISA_LENGTH - 1].split(element)
    if len(fields) != 17:
        raise NotAnInterchange(f"ISA: 16 elements expected, found {len(fields) - 1}")
    control = fields[13]
    if not (len(control) == 9 and control.isdigit()):
        raise NotAnInterchange("ISA13: the interchange control number must be 9 digits")
    return IsaHeader(
        sender_qualifier=fields[5].strip(),
        sender_id=fields[6].strip(),
        receiver_qualifier=fields[7].strip(),
        receiver_id=fields[8].strip(),
        version=fields[12],
        control=control,
        usage=fields[15],
        element=element,
        sub_element=fields[16][:1],
        segment=text[ISA_LENGTH - 1],
    )
