"""Calendars served over HTTP on 127.0.0.1 for the tests, as Google's or Apple's secret
addresses serve them: each path a document with an ETag, answering 304 to a matching
``If-None-Match``; or a chosen status, a slow answer, a huge one. Every request is kept
(path and headers) so a test can see what was asked."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from config.tests.local_http import serve


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    etag: bool = True
    delay: float = 0.0
    # Sent without a Content-Length, this many bytes of filler (a calendar that never ends).
    endless: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class FakeCalendars:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.server, self.thread = serve(self._handle, name="fake-calendars")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def put(self, path: str, body: bytes | str, **options) -> str:
        self.pages[path] = Page(body=body.encode() if isinstance(body, str) else body, **options)
        return self.url(path)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, request) -> None:
        self.requests.append((request.path, dict(request.headers)))
        page = self.pages.get(request.path)
        if page is None:
            return self._send(request, 404, b"not found", {})
        if page.delay:
            time.sleep(page.delay)
        if page.endless:
            request.send_response(200)
            request.send_header("Content-Type", "text/calendar")
            request.send_header("Connection", "close")
            request.end_headers()
            chunk = b"X" * 65536
            try:
                for _ in range(page.endless // len(chunk) + 1):
                    request.wfile.write(chunk)
            except OSError:
                pass
            request.close_connection = True
            return
        headers = {"Content-Type": "text/calendar; charset=utf-8", **page.headers}
        if page.etag and page.status == 200:
            tag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
            headers["ETag"] = tag
            if request.headers.get("If-None-Match") == tag:
                return self._send(request, 304, b"", headers)
        self._send(request, page.status, page.body, headers)

    @staticmethod
    def _send(request, status: int, body: bytes, headers: dict[str, str]) -> None:
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if body:
            request.wfile.write(body)


def calendar(*events: str, extra: str = "") -> str:
    """A VCALENDAR around these VEVENT bodies (lines without BEGIN/END)."""
    body = "".join(f"BEGIN:VEVENT\r\n{event.strip()}\r\nEND:VEVENT\r\n" for event in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tests//Calendar//EN\r\n{extra}{body}END:VCALENDAR\r\n"


def event(uid: str, *lines: str) -> str:
    return "\r\n".join([f"UID:{uid}", "DTSTAMP:20260101T000000Z", *lines])
