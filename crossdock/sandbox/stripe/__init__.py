"""A simulated Stripe account (test mode): PaymentIntents, charges, refunds, disputes and events
over Stripe's REST API, and webhooks signed with ``Stripe-Signature`` sent to an endpoint with
Stripe's retries. See :mod:`.account`, :mod:`.webhooks` and :mod:`.app`."""

from crossdock.sandbox.stripe.app import StripeSandboxSettings
from crossdock.sandbox.stripe.server import StripeSandboxServer

__all__ = ["StripeSandboxServer", "StripeSandboxSettings"]
