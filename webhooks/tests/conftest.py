"""A receiver of webhooks on 127.0.0.1 for the tests: every request kept (path, headers,
body), each path answering the statuses it is given in turn (then its last one), slowly
when asked, or with a redirect."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import pytest

from config.tests.local_http import serve


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Route:
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    location: str = ""
    body: bytes = b'{"ok": true}'


class Receiver:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.received: list[Received] = []
        self.server, self.thread = serve(self._handle, name="fake-webhook-receiver")

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def answer(self, path: str, *statuses: int, delay: float = 0.0, location: str = "", body: bytes = b"") -> str:
        self.routes[path] = Route(list(statuses) or [200], delay, location, body or b'{"ok": true}')
        return self.url(path)

    def at(self, path: str) -> list[Received]:
        return [request for request in self.received if request.path == path]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, request) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        self.received.append(Received(request.path, dict(request.headers), body))
        route = self.routes.get(request.path, Route(statuses=[404]))
        status = route.statuses.pop(0) if len(route.statuses) > 1 else route.statuses[0]
        if route.delay:
            time.sleep(route.delay)
        request.send_response(status)
        if route.location:
            request.send_header("Location", route.location)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(route.body)))
        request.end_headers()
        with contextlib.suppress(OSError):  # the sender gave up waiting
            request.wfile.write(route.body)


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1, which webhooks may then reach (private addresses allowed)."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    settings.RELAY_WAKE = False  # the tests run the relay themselves
    fake = Receiver()
    yield fake
    fake.stop()
