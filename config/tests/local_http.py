"""A tiny HTTP server on 127.0.0.1 for the fakes of outside services the tests start (Twilio,
Stripe): every GET and POST goes to ``handle(request_handler)``; quiet, threaded, on a free
port."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(
    handle: Callable[[BaseHTTPRequestHandler], None], *, name: str
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            handle(self)

        def do_GET(self):
            handle(self)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    thread.start()
    return server, thread
