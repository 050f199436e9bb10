"""The root of every exception Crossdock raises, and the one "a system is down" error.

Catch `CrossdockError` to catch anything of the project's own; catch a narrower class to act on
one failure. Classes that used to derive from a built-in (`ValueError`, `RuntimeError`) still do,
so code catching the built-in keeps working. The tree:

    CrossdockError
    ├── Unavailable                 a system is down or its circuit is open: try again later
    ├── config
    │   ├── ConfigError             the configuration file is invalid (field and rule)
    │   └── SecretError             a secret reference cannot be resolved
    ├── engine
    │   ├── Reject                  a handler's permanent failure: straight to the dead letters
    │   ├── Failed                  a failure given as a message to `Batch.fail`
    │   ├── EnvelopeError(ValueError)   an event cannot be appended (field and rule)
    │   ├── LeaseLost               another worker holds the lease: do not commit
    │   └── SchemaMissing(RuntimeError) the database has no engine tables (run migrations)
    ├── connectors
    │   ├── OdooError               the Odoo connector (its own tree in connectors/odoo/errors.py)
    │   ├── X12Error(ValueError)    X12 that cannot be read or written (edi/x12/model.py):
    │   │                           X12SyntaxError (no usable ISA: a TA1 note), MappingError
    │   ├── PartnerRefused          an EDI partner's server refused a transfer (edi/errors.py)
    │   └── NotAnInterchange        bytes that do not start with a readable ISA segment
    ├── flows
    │   ├── Rejected                stock input broke rules (inventory)
    │   ├── TooPrecise(ValueError)  a quantity with more decimals than positions keep
    │   ├── SnapshotConflict        a count older than the positions' current one
    │   ├── ImportConflict          a forecast's import id used before for other content
    │   └── ExceptionConflict       an exception not open, or an action it does not offer
    ├── webhooks
    │   ├── TransportError          no HTTP answer (refused, reset, TLS, malformed)
    │   ├── DestinationRefused(ValueError)  an endpoint's address is not allowed
    │   ├── PushFailed              an export's signed push was not accepted (retried)
    │   ├── SignatureError          a request whose signature does not verify (401)
    │   └── InboundInvalid(ValueError)      a verified request with unusable content (422)
    ├── api and ui
    │   ├── Problem                 an RFC 9457 problem answer
    │   ├── SignInRequired          no valid dashboard session
    │   └── Forbidden               signed in, but not allowed to do this
    └── sandbox
        ├── RpcError                the Odoo simulator's error answers
        └── RequestError, CardError the Stripe simulator's error answers

Private control-flow exceptions (`_HttpFault`, `_Stale`) derive from it too.

A stdlib-only leaf module so that every layer, the engine and the model included, can import it.
"""

from __future__ import annotations

__all__ = ["CrossdockError", "Unavailable"]


class CrossdockError(Exception):
    """Any error of Crossdock's own."""


class Unavailable(CrossdockError):
    """A system is down or its circuit is open: nothing was done; try again in `retry_after_s`.

    Raised by a connector's circuit breaker (`system` names the system), by a flow that cannot
    reach the ERP, and by an engine handler to pause its batch without counting an attempt.
    """

    def __init__(self, message: str, retry_after_s: float = 0.0, *, system: str = "") -> None:
        super().__init__(message)
        self.retry_after_s = max(0.0, retry_after_s)
        self.system = system
