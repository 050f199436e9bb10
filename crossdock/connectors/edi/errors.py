"""Errors of the EDI transports. A partner's server out of reach is the project's `Unavailable`
(retried; nothing was received or sent); a refusal is a `PartnerRefused`."""

from __future__ import annotations

from crossdock.errors import CrossdockError


class PartnerRefused(CrossdockError):
    """The partner's server answered with a refusal (permission, no such folder, bad MDN)."""


class NotAnInterchange(CrossdockError):
    """The bytes do not start with a readable ISA segment."""
