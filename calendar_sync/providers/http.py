"""Requests to a calendar API with an OAuth access token (Google Calendar, Microsoft Graph):
each with ``CALDAV_TIMEOUT_SECONDS``, to the deployment's API address only, a refused
token renewed once and the request tried again, every failure a ``ProviderError`` in plain
words."""

from __future__ import annotations

from collections.abc import Iterable

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from calendar_sync.oauth import Grant
from calendar_sync.providers.base import ProviderError


class ApiClient:
    def __init__(self, grant: Grant) -> None:
        self.grant = grant
        self.base = grant.app.api_url.rstrip("/")
        self.label = grant.app.label
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        """The API's address for ``path`` (a path, or a full address the API gave, such as a
        next page's: only one on the API's own address is followed)."""
        if path.startswith(("http://", "https://")):
            if not path.startswith(self.base + "/"):
                raise ProviderError(_("%(provider)s gave an answer that could not be understood.") % self._words())
            return path
        return self.base + path

    def _words(self, **more) -> dict:
        return {"provider": self.label, **more}

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: dict | None = None,
        headers: dict | None = None,
        allow: Iterable[int] = (),
    ) -> requests.Response:
        """The API's answer: a success, or a status in ``allow``; otherwise ``ProviderError``."""
        allow = set(allow)
        url = self.url(path)
        answer = self._send(method, url, params=params, json=json, headers=headers)
        if answer.status_code == 401:
            # The access token was refused before it ran out (revoked, rotated): once more
            # with a new one.
            self.grant.renew()
            answer = self._send(method, url, params=params, json=json, headers=headers)
        status = answer.status_code
        if status < 300 or status in allow:
            return answer
        if status == 403 and any(word in answer.text for word in ("rateLimitExceeded", "quotaExceeded")):
            status = 429  # Google says "slow down" with a 403
        raise ProviderError(self._status_words(status), status=status)

    def json(self, answer: requests.Response) -> dict:
        try:
            payload = answer.json()
        except ValueError as error:
            raise ProviderError(
                _("%(provider)s gave an answer that could not be understood.") % self._words()
            ) from error
        if not isinstance(payload, dict):
            raise ProviderError(_("%(provider)s gave an answer that could not be understood.") % self._words())
        return payload

    def _send(self, method, url, *, params, json, headers) -> requests.Response:
        try:
            return self.session.request(
                method,
                url,
                params=params,
                json=json,
                headers={
                    "Authorization": f"Bearer {self.grant.access_token()}",
                    "Accept": "application/json",
                    **(headers or {}),
                },
                timeout=settings.CALDAV_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.Timeout as error:
            raise ProviderError(
                _("%(provider)s did not answer within %(seconds)s seconds.")
                % self._words(seconds=settings.CALDAV_TIMEOUT_SECONDS)
            ) from error
        except requests.RequestException as error:
            raise ProviderError(_("%(provider)s could not be reached.") % self._words()) from error

    def _status_words(self, status: int) -> str:
        if status in (401, 403):
            return _("%(provider)s refused access to the calendar (HTTP %(status)s): connect again.") % self._words(
                status=status
            )
        if status in (404, 410):
            return _(
                "%(provider)s has no such calendar any more (HTTP %(status)s): choose your calendars again."
            ) % self._words(status=status)
        if status == 429 or status >= 500:
            return _("%(provider)s was busy or had a problem (HTTP %(status)s); it will be tried again.") % self._words(
                status=status
            )
        return _("%(provider)s answered HTTP %(status)s.") % self._words(status=status)
