"""A Google account through the Google Calendar API v3.

Busy times: ``events.list`` of each chosen calendar with ``singleEvents=true`` (recurring
events come expanded, their exceptions applied by Google), paged with ``pageToken``;
cancelled events, events shown as free (``transparency``), working locations and events
the coach declined leave the time free; all-day events (``start.date``) are midnight to
midnight of the coach's zone, as in ``calendar_sync.ics``. The product's own events carry
its UID as ``iCalUID`` and in a private extended property, and are never read back.

Writing: ``events.insert``/``patch``/``delete`` with ``sendUpdates=none`` and no attendees
(nobody is sent an invitation). An event is known by ``<calendar id>/<event id>``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from calendar_sync import ics, oauth
from calendar_sync.providers.base import Found, Provider, ProviderError, gather
from calendar_sync.providers.http import ApiClient
from notifications.calendar import EventData

OURS = "bookingUid"
NO_INVITATIONS = {"sendUpdates": "none"}


def _href(calendar_id: str, event_id: str) -> str:
    return f"{quote(calendar_id, safe='')}/{quote(event_id, safe='')}"


def _split(href: str) -> tuple[str, str]:
    calendar_id, _sep, event_id = href.partition("/")
    return unquote(calendar_id), unquote(event_id)


def _instant(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GoogleProvider(Provider):
    def __init__(self, grant: oauth.Grant) -> None:
        self.api = ApiClient(grant)

    @classmethod
    def open_for(cls, connection) -> GoogleProvider:
        return cls(oauth.Grant.of(connection))

    def close(self) -> None:
        self.api.close()

    def _pages(self, path: str, params: dict) -> Iterator[dict]:
        token = ""
        for _page in range(1000):  # 2.5 million events at most: a runaway never ends otherwise
            answer = self.api.json(
                self.api.request("GET", path, params={**params, **({"pageToken": token} if token else {})})
            )
            yield from (item for item in answer.get("items", []) if isinstance(item, dict))
            token = answer.get("nextPageToken", "")
            if not token:
                return

    def calendars(self) -> list[Found]:
        found = []
        for item in self._pages("/users/me/calendarList", {"maxResults": "250"}):
            if item.get("deleted") or not item.get("id"):
                continue
            primary = bool(item.get("primary"))
            if primary:
                self.account_name = str(item["id"])
            name = item.get("summaryOverride") or item.get("summary") or item["id"]
            found.append(Found(url=str(item["id"]), name=str(name), primary=primary))
        return sorted(found, key=lambda item: (not item.primary, item.name.lower(), item.url))

    def busy(
        self,
        calendar_ids: list[str],
        *,
        start: dt.datetime,
        end: dt.datetime,
        zone: ZoneInfo,
        all_day_busy: bool,
        free_busy: bool,
        ours: Callable[[str], bool],
    ) -> list[ics.Busy]:
        params = {
            "singleEvents": "true",
            "timeMin": _stamp(start),
            "timeMax": _stamp(end),
            "maxResults": "2500",
            "showDeleted": "false",
        }
        items = (
            item
            for calendar_id in calendar_ids
            for item in self._pages(f"/calendars/{quote(calendar_id, safe='')}/events", params)
        )
        return gather(
            items,
            lambda item: self._busy(
                item, start=start, end=end, zone=zone, all_day_busy=all_day_busy, free_busy=free_busy, ours=ours
            ),
            unreadable=_("Google gave an event that could not be read."),
        )

    @staticmethod
    def _busy(item: dict, *, start, end, zone, all_day_busy, free_busy, ours) -> list[ics.Busy]:
        uid = str(item.get("iCalUID") or item.get("id", ""))
        private = (item.get("extendedProperties") or {}).get("private") or {}
        if ours(uid) or ours(str(private.get(OURS, ""))):
            return []
        if item.get("status") == "cancelled" or item.get("eventType") == "workingLocation":
            return []
        if item.get("transparency") == "transparent" and not free_busy:
            return []
        if any(
            person.get("self") and person.get("responseStatus") == "declined" for person in item.get("attendees", [])
        ):
            return []
        first, last = item.get("start") or {}, item.get("end") or {}
        if "date" in first:
            if not all_day_busy:
                return []
            until = dt.date.fromisoformat(last["date"]) if "date" in last else None
            begins, ends = ics.all_day(dt.date.fromisoformat(first["date"]), until, zone)
        elif "dateTime" in first:
            begins = _instant(first["dateTime"])
            ends = _instant(last["dateTime"]) if "dateTime" in last else begins
        else:
            return []
        return ics.pieces(uid, begins, ends, start=start, end=end)

    @staticmethod
    def _body(data: EventData) -> dict:
        zone = getattr(data.start.tzinfo, "key", "UTC")
        return {
            "iCalUID": data.uid,
            "summary": data.summary,
            "description": data.description,
            "location": data.location,
            "start": {"dateTime": data.start.isoformat(), "timeZone": zone},
            "end": {"dateTime": data.end.isoformat(), "timeZone": zone},
            "status": "tentative" if data.status == "TENTATIVE" else "confirmed",
            "transparency": "opaque",
            "extendedProperties": {"private": {OURS: data.uid}},
        }

    def render(self, data: EventData) -> bytes:
        return json.dumps(self._body(data), sort_keys=True).encode()

    def put(self, calendar_id: str, data: EventData, *, href: str = "") -> str:
        body = self._body(data)
        change = {key: value for key, value in body.items() if key != "iCalUID"}
        if href:
            written_in, event_id = _split(href)
            path = f"/calendars/{quote(written_in, safe='')}/events/{quote(event_id, safe='')}"
            answer = self.api.request("PATCH", path, params=NO_INVITATIONS, json=change, allow=(404, 410))
            if answer.status_code < 300:
                return href
        events = f"/calendars/{quote(calendar_id, safe='')}/events"
        answer = self.api.request("POST", events, params=NO_INVITATIONS, json=body, allow=(409,))
        if answer.status_code == 409:
            # Written before without our knowing where (a write cut short): that one, changed.
            listed = self.api.json(self.api.request("GET", events, params={"iCalUID": data.uid, "showDeleted": "true"}))
            existing = next((item for item in listed.get("items", []) if item.get("id")), None)
            if existing is None:
                raise ProviderError(_("Google answered HTTP %(status)s.") % {"status": 409}, status=409)
            self.api.request("PATCH", f"{events}/{quote(existing['id'], safe='')}", params=NO_INVITATIONS, json=change)
            return _href(calendar_id, existing["id"])
        event_id = self.api.json(answer).get("id")
        if not event_id:
            raise ProviderError(_("Google gave an answer that could not be understood."))
        return _href(calendar_id, str(event_id))

    def delete(self, href: str) -> None:
        calendar_id, event_id = _split(href)
        path = f"/calendars/{quote(calendar_id, safe='')}/events/{quote(event_id, safe='')}"
        self.api.request("DELETE", path, params=NO_INVITATIONS, allow=(404, 410))

    def holds(self, calendar_id: str, href: str) -> bool:
        return _split(href)[0] == calendar_id
