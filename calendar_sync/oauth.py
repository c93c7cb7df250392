"""Google's and Microsoft's calendars reached through their own APIs, with OAuth 2.0: the
authorization-code flow with PKCE (S256) and a ``state`` kept in the coach's session
against forged answers; the tokens kept encrypted on the connection (``config.crypto``)
and the access token renewed with the refresh token when it runs out. A refresh token the
account withdrew (``invalid_grant``) is said in plain words on the connection.

A provider is offered only when its app's credentials are set (``GOOGLE_CLIENT_ID`` and
``GOOGLE_CLIENT_SECRET``; ``MICROSOFT_CLIENT_ID`` and ``MICROSOFT_CLIENT_SECRET``); its
endpoints are deployment settings, never an address a user gives. This is a few plain
``requests`` calls (each with ``CALDAV_TIMEOUT_SECONDS``) rather than a library: the flow
is three POSTs, and the errors must come out as the product's own words."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_sync.models import CalendarConnection
from calendar_sync.providers.base import ProviderError
from config import crypto

SESSION_KEY = "calendar_oauth"
# An access token this close to running out is renewed before it is used.
MARGIN = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class App:
    """A deployment's OAuth app at one provider."""

    kind: str  # ConnectionKind.GOOGLE or .MICROSOFT
    label: str  # "Google", "Microsoft": for messages
    button: str  # "Connect Google Calendar"
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    api_url: str
    scope: str
    extra: dict = field(default_factory=dict)

    @property
    def redirect_uri(self) -> str:
        return settings.SITE_URL.rstrip("/") + reverse("calendar_oauth_callback", args=[self.kind])


def app(kind: str) -> App | None:
    """The provider's app, or None when the deployment has not configured it."""
    if kind == "google" and settings.GOOGLE_CLIENT_ID and settings.GOOGLE_CLIENT_SECRET:
        return App(
            kind="google",
            label="Google",
            button=_("Connect Google Calendar"),
            client_id=settings.GOOGLE_CLIENT_ID,
            client_secret=settings.GOOGLE_CLIENT_SECRET,
            authorize_url=settings.GOOGLE_OAUTH_AUTHORIZE_URL,
            token_url=settings.GOOGLE_OAUTH_TOKEN_URL,
            api_url=settings.GOOGLE_API_URL.rstrip("/"),
            scope="https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly",
            # A refresh token, every time (a second connection of the same account too).
            extra={"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"},
        )
    if kind == "microsoft" and settings.MICROSOFT_CLIENT_ID and settings.MICROSOFT_CLIENT_SECRET:
        return App(
            kind="microsoft",
            label="Microsoft",
            button=_("Connect Outlook"),
            client_id=settings.MICROSOFT_CLIENT_ID,
            client_secret=settings.MICROSOFT_CLIENT_SECRET,
            authorize_url=settings.MICROSOFT_OAUTH_AUTHORIZE_URL,
            token_url=settings.MICROSOFT_OAUTH_TOKEN_URL,
            api_url=settings.MICROSOFT_API_URL.rstrip("/"),
            scope="offline_access Calendars.ReadWrite",
            extra={"response_mode": "query"},
        )
    return None


def apps() -> list[App]:
    """The providers this deployment offers (none in the demo)."""
    return [found for found in (app("google"), app("microsoft")) if found is not None]


class OAuthError(ProviderError):
    """The OAuth conversation failed, in plain words."""


class Withdrawn(OAuthError):
    """The account took back the access it gave (or it expired): only connecting again helps."""


@dataclass
class Tokens:
    access: str
    refresh: str
    expires_at: dt.datetime

    def sealed(self) -> str:
        return crypto.encrypt(json.dumps({"access_token": self.access, "refresh_token": self.refresh}))


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def begin(session, found: App) -> str:
    """Remember a new ``state`` and PKCE verifier in the session; the provider's consent
    page to send the coach to."""
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    session[SESSION_KEY] = {"kind": found.kind, "state": state, "verifier": verifier}
    query = urlencode(
        {
            "client_id": found.client_id,
            "redirect_uri": found.redirect_uri,
            "response_type": "code",
            "scope": found.scope,
            "state": state,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
            **found.extra,
        }
    )
    return f"{found.authorize_url}{'&' if '?' in found.authorize_url else '?'}{query}"


def finish(session, found: App, *, state: str, code: str, error: str = "") -> Tokens:
    """The tokens for the answer the provider sent the coach back with, once its ``state``
    is the one this session started (each state is used once)."""
    pending = session.pop(SESSION_KEY, None) or {}
    if not (
        pending.get("kind") == found.kind
        and state
        and secrets.compare_digest(str(pending.get("state", "")).encode(), str(state).encode())
    ):
        raise OAuthError(
            _(
                "This answer from %(provider)s does not belong to a connection started here (it may be old, "
                "or from another window). Nothing was connected: start again."
            )
            % {"provider": found.label}
        )
    if error or not code:
        raise OAuthError(
            _("%(provider)s did not give access to your calendars, so nothing was connected.")
            % {"provider": found.label}
        )
    try:
        tokens = _token_request(
            found,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": found.redirect_uri,
                "code_verifier": pending["verifier"],
            },
        )
    except Withdrawn as error:
        raise OAuthError(
            _("%(provider)s did not accept this sign-in (it may have expired): start again.")
            % {"provider": found.label},
            status=error.status,
        ) from error
    if not tokens.refresh:
        raise OAuthError(
            _("%(provider)s gave no lasting access to your calendars; connect again and allow it.")
            % {"provider": found.label}
        )
    return tokens


def withdrawn_words(found: App) -> str:
    return _("%(provider)s access was withdrawn: connect again.") % {"provider": found.label}


def _token_request(found: App, data: dict) -> Tokens:
    try:
        answer = requests.post(
            found.token_url,
            data={**data, "client_id": found.client_id, "client_secret": found.client_secret},
            headers={"Accept": "application/json"},
            timeout=settings.CALDAV_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.Timeout as error:
        raise OAuthError(
            _("%(provider)s did not answer within %(seconds)s seconds.")
            % {"provider": found.label, "seconds": settings.CALDAV_TIMEOUT_SECONDS}
        ) from error
    except requests.RequestException as error:
        raise OAuthError(_("%(provider)s could not be reached.") % {"provider": found.label}) from error
    try:
        payload = answer.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    if answer.status_code in (400, 401) and payload.get("error") == "invalid_grant":
        raise Withdrawn(withdrawn_words(found), status=answer.status_code)
    if answer.status_code != 200 or not payload.get("access_token"):
        raise OAuthError(
            _("%(provider)s refused to give access (HTTP %(status)s).")
            % {"provider": found.label, "status": answer.status_code},
            status=answer.status_code,
        )
    try:
        lasts = int(payload.get("expires_in", 3600))
    except (TypeError, ValueError):
        lasts = 3600
    return Tokens(
        access=str(payload["access_token"]),
        refresh=str(payload.get("refresh_token", "")),
        expires_at=timezone.now() + dt.timedelta(seconds=lasts),
    )


class Grant:
    """An account's tokens in use: the access token renewed when it runs out (and saved
    back to its connection, encrypted)."""

    def __init__(self, found: App, tokens: Tokens, connection=None) -> None:
        self.app = found
        self.tokens = tokens
        self.connection = connection
        self.withdrawn: Withdrawn | None = None

    @classmethod
    def of(cls, connection) -> Grant:
        found = app(connection.kind)
        if found is None:
            raise OAuthError(
                _("This site no longer connects to %(provider)s.") % {"provider": connection.get_kind_display()}
            )
        try:
            saved = json.loads(crypto.decrypt(connection.token_encrypted) or "{}")
        except (crypto.Unreadable, ValueError) as error:
            raise OAuthError(_("The saved access can no longer be read: connect again.")) from error
        tokens = Tokens(
            access=saved.get("access_token", ""),
            refresh=saved.get("refresh_token", ""),
            expires_at=connection.token_expires_at or timezone.now(),
        )
        return cls(found, tokens, connection)

    def access_token(self) -> str:
        if not self.tokens.access or self.tokens.expires_at <= timezone.now() + MARGIN:
            self.renew()
        return self.tokens.access

    def renew(self) -> None:
        """A new access token from the refresh token (a refresh token the provider
        rotates is kept too)."""
        if self.withdrawn is not None:
            raise self.withdrawn
        if not self.tokens.refresh:
            self.withdrawn = Withdrawn(withdrawn_words(self.app))
            raise self.withdrawn
        data = {"grant_type": "refresh_token", "refresh_token": self.tokens.refresh}
        if self.app.kind == "microsoft":
            data["scope"] = self.app.scope
        try:
            fresh = _token_request(self.app, data)
        except Withdrawn as error:
            self.withdrawn = error
            if self.connection is not None:
                CalendarConnection.objects.filter(pk=self.connection.pk).update(last_error=error.message[:300])
                self.connection.last_error = error.message[:300]
            raise
        self.tokens = Tokens(fresh.access, fresh.refresh or self.tokens.refresh, fresh.expires_at)
        if self.connection is not None:
            self.save()

    def save(self) -> None:
        sealed = self.tokens.sealed()
        CalendarConnection.objects.filter(pk=self.connection.pk).update(
            token_encrypted=sealed, token_expires_at=self.tokens.expires_at
        )
        self.connection.token_encrypted = sealed
        self.connection.token_expires_at = self.tokens.expires_at
