"""A fake of the Google Calendar API v3 (and Google's OAuth token endpoint) on 127.0.0.1,
just what the product uses: ``calendarList.list``, ``events.list`` (``singleEvents`` only:
a test stores the occurrences as Google returns them expanded; ``timeMin``/``timeMax``,
``iCalUID``, two events a page with ``nextPageToken``), ``events.insert`` (409 for an
``iCalUID`` already in the calendar), ``events.patch`` and ``events.delete``. Calendars
and events live in memory for the tests to arrange and to read what was written."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote

from calendar_sync.tests.fake_api import FakeOAuthApi

PAGE = 2


def _moment(value: dict) -> dt.datetime:
    if "date" in value:
        return dt.datetime.fromisoformat(value["date"]).replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(value["dateTime"]).astimezone(dt.UTC)


@dataclass
class FakeGoogle(FakeOAuthApi):
    # calendar id → {"summary", "primary", "events": {event id → event}}
    calendars: dict[str, dict] = field(default_factory=dict)

    def add_calendar(self, calendar_id: str, summary: str, *, primary: bool = False) -> str:
        self.calendars[calendar_id] = {"summary": summary, "primary": primary, "events": {}}
        return calendar_id

    def add_event(self, calendar_id: str, **event) -> dict:
        event.setdefault("id", secrets.token_hex(8))
        event.setdefault("status", "confirmed")
        event.setdefault("iCalUID", f"{event['id']}@google.com")
        self.calendars[calendar_id]["events"][event["id"]] = event
        return event

    def events(self, calendar_id: str) -> list[dict]:
        return list(self.calendars[calendar_id]["events"].values())

    def route(self, method, path, query, body, headers):
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if parts[:2] != ["calendar", "v3"]:
            return 404, {"error": {"code": 404}}
        parts = parts[2:]
        if parts == ["users", "me", "calendarList"] and method == "GET":
            items = [
                {"id": key, "summary": value["summary"], "primary": value["primary"], "accessRole": "owner"}
                for key, value in self.calendars.items()
            ]
            return self._page(items, query)
        if len(parts) < 3 or parts[0] != "calendars" or parts[2] != "events":
            return 404, {"error": {"code": 404}}
        calendar = self.calendars.get(parts[1])
        if calendar is None:
            return 404, {"error": {"code": 404, "message": "Not Found"}}
        events = calendar["events"]
        if len(parts) == 3 and method == "GET":
            assert query.get("singleEvents") == "true" or "iCalUID" in query
            items = list(events.values())
            if "iCalUID" in query:
                items = [item for item in items if item["iCalUID"] == query["iCalUID"]]
            if "timeMin" in query:
                low = dt.datetime.fromisoformat(query["timeMin"])
                high = dt.datetime.fromisoformat(query["timeMax"])
                items = [item for item in items if _moment(item["start"]) < high and _moment(item["end"]) > low]
            items.sort(key=lambda item: _moment(item["start"]))
            return self._page(items, query)
        if len(parts) == 3 and method == "POST":
            assert query.get("sendUpdates") == "none"
            if any(item["iCalUID"] == body["iCalUID"] for item in events.values()):
                return 409, {"error": {"code": 409, "message": "The requested identifier already exists."}}
            event = {**body, "id": secrets.token_hex(8)}
            events[event["id"]] = event
            return 200, event
        if len(parts) == 4:
            event = events.get(parts[3])
            if event is None:
                return 404, {"error": {"code": 404, "message": "Not Found"}}
            assert query.get("sendUpdates") == "none"
            if method == "PATCH":
                event.update(body)
                return 200, event
            if method == "DELETE":
                del events[parts[3]]
                return 204, None
        return 405, {"error": {"code": 405}}

    @staticmethod
    def _page(items: list[dict], query: dict) -> tuple[int, dict]:
        start = int(query.get("pageToken") or 0)
        page = {"items": items[start : start + PAGE]}
        if start + PAGE < len(items):
            page["nextPageToken"] = str(start + PAGE)
        return 200, page
