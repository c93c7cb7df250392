"""A Microsoft 365 / Outlook account through Microsoft Graph.

Busy times: ``/me/calendars/{id}/calendarView`` of each chosen calendar between the two
instants (recurring events come as their occurrences), paged with ``@odata.nextLink``,
times in UTC (``Prefer: outlook.timezone="UTC"``); cancelled events, events shown as
``free`` or ``workingElsewhere`` and events the coach declined leave the time free
(``tentative``, ``busy`` and ``oof`` make them busy); all-day events are midnight to
midnight of the coach's zone. The product's own events carry its UID in a single-value
extended property, and are never read back.

Writing: POST ``/me/calendars/{id}/events``, PATCH and DELETE ``/me/events/{id}``, with no
attendees (nobody is sent an invitation). An event is known by ``<calendar id>/<event id>``."""

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

# The booking's UID on the events the product writes (a named MAPI string property).
OURS = "String {a1c5ccc1-0d58-4efc-aaf9-c3088783d90f} Name BookingUid"
UTC_TIMES = {"Prefer": 'outlook.timezone="UTC"'}
FREE = ("free", "workingElsewhere")


def _href(calendar_id: str, event_id: str) -> str:
    return f"{quote(calendar_id, safe='')}/{quote(event_id, safe='')}"


def _split(href: str) -> tuple[str, str]:
    calendar_id, _sep, event_id = href.partition("/")
    return unquote(calendar_id), unquote(event_id)


def _moment(value: dict) -> dt.datetime:
    """A Graph ``dateTimeTimeZone`` ("2026-10-20T08:00:00.0000000", "UTC") in UTC."""
    text = str(value["dateTime"])
    head, dot, fraction = text.partition(".")
    moment = dt.datetime.fromisoformat(head + (dot + fraction[:6] if dot else ""))
    if moment.tzinfo is None:
        name = value.get("timeZone") or "UTC"
        try:
            moment = moment.replace(tzinfo=dt.UTC if name == "UTC" else ZoneInfo(name))
        except (ValueError, KeyError):
            moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _graph_time(moment: dt.datetime) -> dict:
    return {"dateTime": moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


class MicrosoftProvider(Provider):
    def __init__(self, grant: oauth.Grant) -> None:
        self.api = ApiClient(grant)

    @classmethod
    def open_for(cls, connection) -> MicrosoftProvider:
        return cls(oauth.Grant.of(connection))

    def close(self) -> None:
        self.api.close()

    def _pages(self, path: str, params: dict | None, headers: dict | None = None) -> Iterator[dict]:
        for _page in range(1000):  # a runaway paging never ends otherwise
            answer = self.api.json(self.api.request("GET", path, params=params, headers=headers))
            yield from (item for item in answer.get("value", []) if isinstance(item, dict))
            path, params = answer.get("@odata.nextLink", ""), None
            if not path:
                return

    def calendars(self) -> list[Found]:
        found = []
        for item in self._pages("/me/calendars", {"$top": "100"}):
            if not item.get("id"):
                continue
            primary = bool(item.get("isDefaultCalendar"))
            if primary:
                self.account_name = str((item.get("owner") or {}).get("address", ""))
            found.append(Found(url=str(item["id"]), name=str(item.get("name") or item["id"]), primary=primary))
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
            "startDateTime": start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": end.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "$top": "500",
            "$select": "id,iCalUId,start,end,isAllDay,isCancelled,showAs,responseStatus",
            "$expand": f"singleValueExtendedProperties($filter=id eq '{OURS}')",
        }
        items = (
            item
            for calendar_id in calendar_ids
            for item in self._pages(f"/me/calendars/{quote(calendar_id, safe='')}/calendarView", params, UTC_TIMES)
        )
        return gather(
            items,
            lambda item: self._busy(
                item, start=start, end=end, zone=zone, all_day_busy=all_day_busy, free_busy=free_busy, ours=ours
            ),
            unreadable=_("Microsoft gave an event that could not be read."),
        )

    @staticmethod
    def _busy(item: dict, *, start, end, zone, all_day_busy, free_busy, ours) -> list[ics.Busy]:
        uid = str(item.get("iCalUId") or item.get("id", ""))
        marks = [str(prop.get("value", "")) for prop in item.get("singleValueExtendedProperties") or []]
        if any(ours(mark) for mark in marks) or ours(uid):
            return []
        if item.get("isCancelled"):
            return []
        if item.get("showAs") in FREE and not free_busy:
            return []
        if (item.get("responseStatus") or {}).get("response") == "declined":
            return []
        if item.get("isAllDay"):
            if not all_day_busy:
                return []
            first = dt.date.fromisoformat(str(item["start"]["dateTime"])[:10])
            last = dt.date.fromisoformat(str(item["end"]["dateTime"])[:10])
            begins, ends = ics.all_day(first, last if last > first else None, zone)
        else:
            begins, ends = _moment(item["start"]), _moment(item["end"])
        return ics.pieces(uid, begins, ends, start=start, end=end)

    @staticmethod
    def _body(data: EventData) -> dict:
        return {
            "subject": data.summary,
            "body": {"contentType": "text", "content": data.description},
            "start": _graph_time(data.start),
            "end": _graph_time(data.end),
            "location": {"displayName": data.location},
            "showAs": "tentative" if data.status == "TENTATIVE" else "busy",
            "responseRequested": False,
            "singleValueExtendedProperties": [{"id": OURS, "value": data.uid}],
        }

    def render(self, data: EventData) -> bytes:
        return json.dumps(self._body(data), sort_keys=True).encode()

    def put(self, calendar_id: str, data: EventData, *, href: str = "") -> str:
        body = self._body(data)
        if href:
            _written_in, event_id = _split(href)
            answer = self.api.request("PATCH", f"/me/events/{quote(event_id, safe='')}", json=body, allow=(404, 410))
            if answer.status_code < 300:
                return href
        answer = self.api.request("POST", f"/me/calendars/{quote(calendar_id, safe='')}/events", json=body)
        event_id = self.api.json(answer).get("id")
        if not event_id:
            raise ProviderError(_("Microsoft gave an answer that could not be understood."))
        return _href(calendar_id, str(event_id))

    def delete(self, href: str) -> None:
        _calendar_id, event_id = _split(href)
        self.api.request("DELETE", f"/me/events/{quote(event_id, safe='')}", allow=(404, 410))

    def holds(self, calendar_id: str, href: str) -> bool:
        return _split(href)[0] == calendar_id
