"""Sub-commands of the `crossdock` CLI, one module per command group."""
