"""Requests this server makes to addresses its users give (a calendar's address, a
webhook endpoint): never to the server's own network, with a deadline and a size
limit, redirects followed only to addresses that pass the same check.

An address is refused when its host resolves to a loopback, private, link-local, shared,
multicast, reserved or unspecified address (``127.0.0.1``, ``10.x``, ``169.254.169.254``,
``::1``, …) — unless ``OUTBOUND_ALLOW_PRIVATE`` is on, as tests that start a local server
turn it on. The check runs before each request and each redirect."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _

MAX_REDIRECTS = 5


class OutboundError(Exception):
    """A request that could not be made or answered, said in plain words for the person
    who gave the address."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason  # for programs: bad_address, private_address, timeout, too_large…


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("100.64.0.0/10"))
    )


def check_address(url: str) -> str:
    """The address to request (``webcal://`` read as ``https://``), or ``OutboundError``
    when it is not an http(s) address of a public host."""
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError(_("Give an address that starts with https://, http:// or webcal://."), reason="bad_address")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise OutboundError(_("The address's port is not a number."), reason="bad_address") from error
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OutboundError(
            _("No server was found at %(host)s. Check the address.") % {"host": parts.hostname}, reason="no_such_host"
        ) from error
    if not getattr(settings, "OUTBOUND_ALLOW_PRIVATE", False):
        for *_rest, sockaddr in found:
            if _refused(ipaddress.ip_address(sockaddr[0].split("%")[0])):
                raise OutboundError(
                    _("%(host)s is an address inside a private network; give a public address.")
                    % {"host": parts.hostname},
                    reason="private_address",
                )
    return url


def get(url: str, *, headers: dict[str, str] | None = None, timeout: float, max_bytes: int) -> Answer:
    """GET ``url`` within ``timeout`` seconds in all (connecting, every redirect and the
    whole body), refusing a body over ``max_bytes``."""
    deadline = time.monotonic() + timeout
    url = check_address(url)
    for _hop in range(MAX_REDIRECTS + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            raise OutboundError(_("The server took too long to answer."), reason="timeout")
        try:
            response = requests.get(
                url, headers=headers or {}, timeout=(min(left, 10), left), stream=True, allow_redirects=False
            )
        except requests.Timeout as error:
            raise OutboundError(_("The server took too long to answer."), reason="timeout") from error
        except requests.RequestException as error:
            raise OutboundError(_("The server could not be reached."), reason="unreachable") from error
        with response:
            if response.is_redirect and response.headers.get("Location"):
                url = check_address(urljoin(url, response.headers["Location"]))
                continue
            body = _read(response, deadline=deadline, max_bytes=max_bytes)
            return Answer(response.status_code, dict(response.headers), body, url)
    raise OutboundError(_("The address redirected too many times."), reason="redirects")


def post(url: str, *, body: bytes, headers: dict[str, str] | None = None, timeout: float, max_bytes: int) -> Answer:
    """POST ``body`` to ``url`` within ``timeout`` seconds in all (connecting, sending and
    reading the answer). A redirect is not followed: its answer is returned as it is (a
    POST must not be replayed at another address). Only the first ``max_bytes`` of the
    answer's body are read; the rest is left unread (what matters is the status)."""
    deadline = time.monotonic() + timeout
    url = check_address(url)
    try:
        response = requests.post(
            url,
            data=body,
            headers=headers or {},
            timeout=(min(timeout, 10), timeout),
            stream=True,
            allow_redirects=False,
        )
    except requests.Timeout as error:
        raise OutboundError(_("The server took too long to answer."), reason="timeout") from error
    except requests.RequestException as error:
        raise OutboundError(_("The server could not be reached."), reason="unreachable") from error
    with response:
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(min(max_bytes, 64 * 1024) or 1):
                chunks.append(chunk)
                size += len(chunk)
                if size >= max_bytes:
                    break
                if time.monotonic() > deadline:
                    raise OutboundError(_("The server took too long to answer."), reason="timeout")
        except requests.RequestException as error:
            raise OutboundError(_("The server stopped answering part-way."), reason="unreachable") from error
        return Answer(response.status_code, dict(response.headers), b"".join(chunks)[:max_bytes], url)


def _read(response: requests.Response, *, deadline: float, max_bytes: int) -> bytes:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise OutboundError(_too_large(max_bytes), reason="too_large")
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise OutboundError(_too_large(max_bytes), reason="too_large")
            if time.monotonic() > deadline:
                raise OutboundError(_("The server took too long to answer."), reason="timeout")
            chunks.append(chunk)
    except requests.RequestException as error:
        raise OutboundError(_("The server stopped answering part-way."), reason="unreachable") from error
    return b"".join(chunks)


def _too_large(max_bytes: int) -> str:
    return _("The answer is larger than %(megabytes)s MB.") % {"megabytes": round(max_bytes / 1_000_000, 1)}
