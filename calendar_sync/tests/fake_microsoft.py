"""A fake of Microsoft Graph's calendar API (and the identity platform's token endpoint) on
127.0.0.1, just what the product uses: ``/me/calendars`` and ``calendarView`` (a test
stores the occurrences as Graph returns them expanded; two a page with a full
``@odata.nextLink``; times in UTC only when asked with ``Prefer: outlook.timezone="UTC"``;
single-value extended properties only when ``$expand``-ed), POST of an event into a
calendar, PATCH and DELETE ``/me/events/{id}``. Everything lives in memory."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode

from calendar_sync.tests.fake_api import FakeOAuthApi

PAGE = 2
OWNER = "ana@contoso.example"


def utc(moment: dt.datetime) -> dict:
    """A Graph ``dateTimeTimeZone`` in UTC, as Graph writes it."""
    return {"dateTime": moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def _moment(value: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(value["dateTime"][:19]).replace(tzinfo=dt.UTC)


@dataclass
class FakeMicrosoft(FakeOAuthApi):
    rotate_refresh: bool = True  # Microsoft hands a new refresh token with each renewal
    # calendar id → {"name", "default", "events": {event id → event}}
    calendars: dict[str, dict] = field(default_factory=dict)

    def add_calendar(self, calendar_id: str, name: str, *, default: bool = False) -> str:
        self.calendars[calendar_id] = {"name": name, "default": default, "events": {}}
        return calendar_id

    def add_event(self, calendar_id: str, **event) -> dict:
        event.setdefault("id", "AAMk" + secrets.token_hex(8))
        event.setdefault("isCancelled", False)
        event.setdefault("isAllDay", False)
        event.setdefault("showAs", "busy")
        event.setdefault("iCalUId", "040000008200E0" + secrets.token_hex(8))
        self.calendars[calendar_id]["events"][event["id"]] = event
        return event

    def events(self, calendar_id: str) -> list[dict]:
        return list(self.calendars[calendar_id]["events"].values())

    def _find(self, event_id: str) -> tuple[dict, dict] | None:
        for calendar in self.calendars.values():
            if event_id in calendar["events"]:
                return calendar["events"], calendar["events"][event_id]
        return None

    def route(self, method, path, query, body, headers):
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if parts[:1] != ["v1.0"]:
            return 404, {"error": {"code": "NotFound"}}
        parts = parts[1:]
        if parts == ["me", "calendars"] and method == "GET":
            items = [
                {
                    "id": key,
                    "name": value["name"],
                    "isDefaultCalendar": value["default"],
                    "canEdit": True,
                    "owner": {"name": "Ana", "address": OWNER},
                }
                for key, value in self.calendars.items()
            ]
            return self._page(path, items, query)
        if len(parts) == 4 and parts[:2] == ["me", "calendars"]:
            calendar = self.calendars.get(parts[2])
            if calendar is None:
                return 404, {"error": {"code": "ErrorItemNotFound"}}
            if parts[3] == "calendarView" and method == "GET":
                assert headers.get("Prefer") == 'outlook.timezone="UTC"'
                low = dt.datetime.fromisoformat(query["startDateTime"])
                high = dt.datetime.fromisoformat(query["endDateTime"])
                items = [
                    self._shown(item, query)
                    for item in calendar["events"].values()
                    if _moment(item["start"]) < high and _moment(item["end"]) > low
                ]
                items.sort(key=lambda item: item["start"]["dateTime"])
                return self._page(path, items, query)
            if parts[3] == "events" and method == "POST":
                assert "attendees" not in body
                event = {**body, "id": "AAMk" + secrets.token_hex(8), "isCancelled": False, "isAllDay": False}
                calendar["events"][event["id"]] = event
                return 201, event
        if len(parts) == 3 and parts[:2] == ["me", "events"]:
            found = self._find(parts[2])
            if found is None:
                return 404, {"error": {"code": "ErrorItemNotFound"}}
            events, event = found
            if method == "PATCH":
                event.update(body)
                return 200, event
            if method == "DELETE":
                del events[parts[2]]
                return 204, None
        return 405, {"error": {"code": "MethodNotAllowed"}}

    @staticmethod
    def _shown(item: dict, query: dict) -> dict:
        shown = {key: value for key, value in item.items() if key != "singleValueExtendedProperties"}
        wanted = query.get("$expand", "")
        if "singleValueExtendedProperties" in wanted:
            shown["singleValueExtendedProperties"] = [
                prop for prop in item.get("singleValueExtendedProperties", []) if prop["id"] in wanted
            ]
        return shown

    def _page(self, path: str, items: list[dict], query: dict) -> tuple[int, dict]:
        start = int(query.get("$skiptoken") or 0)
        page = {"value": items[start : start + PAGE]}
        if start + PAGE < len(items):
            page["@odata.nextLink"] = f"{self.base}{path}?{urlencode({**query, '$skiptoken': start + PAGE})}"
        return 200, page
