"""Payment gateways in general: the canonical payment report every gateway and bank statement
maps to (:mod:`.report`) and the generic signed-webhook mapping by field paths (:mod:`.generic`)."""
