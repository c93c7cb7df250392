"""A small stand-in for Twilio's Messages API on 127.0.0.1, for the real ``twilio`` client to talk to.

It answers ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` as Twilio does: HTTP Basic
auth with the account SID and auth token (401, code 20003, otherwise), the form fields
``To``, ``From``, ``Body`` checked (400 with Twilio's error JSON when missing, or 21211 when
``To`` is not an E.164 number), then 201 with a message resource (``sid`` "SM…", status
"queued"). Tests can script the next answers (``fail_next``, ``answer_next``) and hold an answer
back (``hold_next``) to make the client time out. Every request is kept in ``requests``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from config.tests.local_http import serve

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# Twilio's own texts for these errors.
ERRORS = {
    400: (21211, "The 'To' number {to} is not a valid phone number."),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource {path} was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


def error_body(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]
    authorized: bool

    def field(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


@dataclass
class Answer:
    status: int
    body: dict | str | Callable[[ReceivedRequest], dict]
    hold_seconds: float = 0.0


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0f" * 16
    auth_token: str = "fake-auth-token-for-tests"
    requests: list[ReceivedRequest] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self._script: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Running ------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        self._server, self._thread = serve(self._handle, name="fake-twilio")
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # Scripting ----------------------------------------------------------------------

    def answer_next(
        self, status: int, body: dict | str | Callable[[ReceivedRequest], dict], *, hold_seconds: float = 0.0
    ) -> None:
        """The next message request gets this answer (after the auth check)."""
        with self._lock:
            self._script.append(Answer(status, body, hold_seconds))

    def fail_next(self, status: int, code: int | None = None, message: str | None = None) -> None:
        """The next message request fails like Twilio does with ``status`` (default code and text)."""
        default_code, default_message = ERRORS.get(status, (status, "Error"))

        def body(received: ReceivedRequest) -> dict:
            text = message or default_message.format(to=received.field("To"), path=received.path)
            return error_body(status, code or default_code, text)

        self.answer_next(status, body)

    def hold_next(self, seconds: float) -> None:
        """The next message request is answered (successfully) only after ``seconds``."""
        self.answer_next(0, {}, hold_seconds=seconds)

    # Answering ----------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8") if length else ""
        form = parse_qs(raw, keep_blank_values=True)
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        authorized = handler.headers.get("Authorization", "") == expected
        received = ReceivedRequest(handler.command, handler.path, dict(handler.headers.items()), form, authorized)
        with self._lock:
            self.requests.append(received)
        status, body = self._answer(received)
        self._send(handler, status, body)

    def _answer(self, received: ReceivedRequest) -> tuple[int, dict | str]:
        match = MESSAGES_PATH.match(received.path)
        if received.method != "POST" or not match:
            return 404, error_body(404, 20404, ERRORS[404][1].format(path=received.path))
        if not received.authorized or match["account"] != self.account_sid:
            return 401, error_body(401, *ERRORS[401])
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        if scripted is not None:
            if scripted.hold_seconds:
                self._released.wait(scripted.hold_seconds)
            if scripted.status:
                body = scripted.body(received) if callable(scripted.body) else scripted.body
                return scripted.status, body
        return self._create_message(received)

    def _create_message(self, received: ReceivedRequest) -> tuple[int, dict]:
        to, from_, body = received.field("To"), received.field("From"), received.field("Body")
        if not to:
            return 400, error_body(400, 21604, "A 'To' phone number is required.")
        if not from_:
            return 400, error_body(400, 21603, "A 'From' phone number is required.")
        if not body:
            return 400, error_body(400, 21602, "Message body is required.")
        if not E164.match(to):
            return 400, error_body(400, 21211, ERRORS[400][1].format(to=to))
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(dt.datetime.now(dt.UTC))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": to,
            "uri": uri,
        }
        with self._lock:
            self.messages.append(message)
        return 201, message

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict | str) -> None:
        payload = (json.dumps(body) if isinstance(body, dict) else body).encode("utf-8")
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)
