"""Sub-commands of the `crossdock` CLI, one module per command group.

The CLI is a composition root: it registers the sandbox's simulators by `kind`, so that a system
marked `sandbox: true` finds its simulator without production code importing the sandbox.
"""

from crossdock.sandbox import register as register_simulators

register_simulators()
