"""`python -m crossdock` runs the CLI."""

from crossdock.cli import app

app()
