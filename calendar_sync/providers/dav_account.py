"""A CalDAV account (``calendar_sync.dav``) as a provider: its events fetched whole and
expanded here (``calendar_sync.ics``), each booking written as a VCALENDAR."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from calendar_sync import dav, ics
from calendar_sync.providers.base import Found, Provider
from notifications.calendar import EventData, calendar_copy_document


class DavProvider(Provider):
    def __init__(self, account: dav.Account) -> None:
        self.account = account

    @classmethod
    def open_for(cls, connection) -> DavProvider:
        return cls(dav.open_account(connection))

    def close(self) -> None:
        self.account.__exit__(None, None, None)

    def calendars(self) -> list[Found]:
        return self.account.calendars()

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
        document = self.account.events(calendar_ids, start=start, end=end)
        try:
            return ics.busy_times(
                document, zone=zone, start=start, end=end, all_day_busy=all_day_busy, free_busy=free_busy, ours=ours
            )
        except ics.FeedError as error:
            raise dav.DavError(str(error)) from error

    def render(self, data: EventData) -> bytes:
        return calendar_copy_document(data)

    def put(self, calendar_id: str, data: EventData, *, href: str = "") -> str:
        return self.account.put(calendar_id, self.render(data), href=href)

    def delete(self, href: str) -> None:
        self.account.delete(href)
