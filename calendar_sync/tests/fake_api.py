"""What the fakes of Google's and Microsoft's calendar APIs share: an HTTP server on
127.0.0.1 (GET, POST, PATCH, DELETE), an OAuth token endpoint that checks the client, the
redirect address and the PKCE verifier of each code and renews access with refresh tokens
(which a test may revoke), bearer tokens checked on every API request, and every request
kept so a test can see what was asked."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = "client-id-for-tests"
CLIENT_SECRET = "client-secret-for-tests"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict | None = None


@dataclass
class Code:
    challenge: str
    redirect_uri: str
    scope: str


@dataclass
class FakeOAuthApi:
    """Subclasses answer ``route(method, path, query, body, headers)`` → (status, payload)."""

    rotate_refresh: bool = False
    expires_in: int = 3600
    codes: dict[str, Code] = field(default_factory=dict)
    access: set[str] = field(default_factory=set)
    refresh: set[str] = field(default_factory=set)
    requests: list[Seen] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    # Answers given to the next API requests instead of the real ones: (status, payload).
    failures: list[tuple[int, dict]] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def do_GET(self):
                fake._handle(self)

            do_POST = do_PATCH = do_DELETE = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the consent page (a browser's step: done in the test's process) ---------------

    def consent(self, authorize_url: str) -> dict[str, str]:
        """What the provider sends the coach back with after they allowed access: a code
        for this authorization request, and its state."""
        query = {key: values[0] for key, values in parse_qs(urlsplit(authorize_url).query).items()}
        assert query["client_id"] == CLIENT_ID
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = Code(query["code_challenge"], query["redirect_uri"], query["scope"])
        return {"code": code, "state": query["state"]}

    def revoke(self) -> None:
        """The account withdraws the access: every token stops working."""
        self.access.clear()
        self.refresh.clear()

    def expire_access(self) -> None:
        """Access tokens stop working (refresh tokens still do)."""
        self.access.clear()

    def api(self, method: str | None = None) -> list[Seen]:
        return [seen for seen in self.requests if method is None or seen.method == method]

    # -- HTTP -------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        if parts.path == "/token":
            form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
            with self.lock:
                status, payload = self._token(form)
            return self._send(request, status, payload)
        body = json.loads(raw) if raw else None
        headers = dict(request.headers)
        self.requests.append(Seen(request.command, parts.path, query, headers, body))
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access:
            return self._send(request, 401, {"error": {"code": 401, "message": "Invalid Credentials"}})
        if self.failures:
            return self._send(request, *self.failures.pop(0))
        with self.lock:
            status, payload = self.route(request.command, parts.path, query, body, headers)
        self._send(request, status, payload)

    def _issue(self, *, refresh: str | None = None) -> dict:
        access = secrets.token_urlsafe(16)
        self.access.add(access)
        answer = {"access_token": access, "token_type": "Bearer", "expires_in": self.expires_in}
        if refresh is None or self.rotate_refresh:
            if refresh:
                self.refresh.discard(refresh)
            refresh = secrets.token_urlsafe(16)
            self.refresh.add(refresh)
            answer["refresh_token"] = refresh
        return answer

    def _token(self, form: dict[str, str]) -> tuple[int, dict]:
        self.token_requests.append(form)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if code is None or code.redirect_uri != form.get("redirect_uri") or code.challenge != challenge:
                return 400, {"error": "invalid_grant", "error_description": "Bad code or verifier."}
            return 200, self._issue()
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            return 200, self._issue(refresh=form["refresh_token"])
        return 400, {"error": "unsupported_grant_type"}

    def route(self, method: str, path: str, query: dict, body: dict | None, headers: dict) -> tuple[int, dict | None]:
        raise NotImplementedError

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, payload: dict | None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        request.send_response(status)
        if data:
            request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        if data:
            request.wfile.write(data)
