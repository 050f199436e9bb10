"""`crossdock webhooks receive`: a small webhook receiver to try a subscription with. It verifies
each delivery's signature with the Standard Webhooks reference library (as any receiver should),
prints the verified ones as JSON lines and answers 401 to the others; `GET /` answers 200 once
it listens."""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import typer
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

app = typer.Typer(no_args_is_help=True, help="Webhooks: a receiver to try subscriptions with.")


class _Receiver(HTTPServer):
    def __init__(self, host: str, port: int, secret: str) -> None:
        super().__init__((host, port), _Handler)
        self.webhook = Webhook(secret)
        self.verified = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            payload: Any = self.server.webhook.verify(body, dict(self.headers.items()))
        except WebhookVerificationError as exc:
            self.send_response(401)
            self.end_headers()
            print(f"rejected: {exc}", file=sys.stderr, flush=True)
            return
        self.send_response(204)
        self.end_headers()
        self.server.verified += 1
        line = {"verified": True, "webhook_id": self.headers["webhook-id"], "payload": payload}
        print(json.dumps(line), flush=True)

    def do_GET(self) -> None:
        """Answers 200: the receiver is listening (a script waits for this)."""
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"listening\n")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: only deliveries are printed."""


@app.command()
def receive(
    secret: str = typer.Option(
        ..., envvar="WEBHOOK_SECRET", help="The subscription's secret (whsec_…)."
    ),
    port: int = typer.Option(9000, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    count: int = typer.Option(
        0, min=0, help="Exit after this many verified deliveries (0: never)."
    ),
) -> None:
    """Listen for deliveries; print each verified one as a JSON line on stdout; answer 401 (and
    say why on stderr) to a request whose signature does not verify."""
    server = _Receiver(host, port, secret)
    try:
        while count == 0 or server.verified < count:
            server.handle_request()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
