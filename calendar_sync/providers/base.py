"""What every kind of calendar account offers the sync and the writer: its calendars, the
busy times of the chosen ones between two instants, and writing or deleting one booking's
event. CalDAV (``dav_account``), Google Calendar (``google``) and Microsoft Graph
(``microsoft``) each implement it; failures come out as ``ProviderError`` in plain words
for the coach's page."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from calendar_sync import ics
from notifications.calendar import EventData


class ProviderError(Exception):
    """What went wrong with the account, in plain words."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Found:
    """One calendar of an account: its address (CalDAV) or id (Google, Microsoft), its name,
    whether it is the account's main calendar."""

    url: str
    name: str
    primary: bool = False


class Provider(abc.ABC):
    """An open conversation with one account (use it as a context manager)."""

    # Who the account is ("ana@example.com"), when the provider says.
    account_name: str = ""

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027 - nothing to close by default
        pass

    @abc.abstractmethod
    def calendars(self) -> list[Found]:
        """The account's calendars of events."""

    @abc.abstractmethod
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
        """The busy times of these calendars touching [start, end), recurring events as
        occurrences, all-day ones in ``zone``; the product's own events (``ours``) left out."""

    @abc.abstractmethod
    def render(self, data: EventData) -> bytes:
        """What ``put`` sends for this event (its digest tells whether it changed)."""

    @abc.abstractmethod
    def put(self, calendar_id: str, data: EventData, *, href: str = "") -> str:
        """Write the event into the calendar (at ``href`` when written before, anew when
        empty or gone); where it is now."""

    @abc.abstractmethod
    def delete(self, href: str) -> None:
        """Delete the event at ``href`` (already gone is fine)."""

    def holds(self, calendar_id: str, href: str) -> bool:
        """Whether the event at ``href`` is in that calendar."""
        return href.startswith(calendar_id)


def gather(items: Iterable[dict], read: Callable[[dict], list[ics.Busy]], *, unreadable: str) -> list[ics.Busy]:
    """The busy times of an API's events (``read`` turns one into its pieces), in order,
    each counted once; an event that can't be read fails the read with ``unreadable``."""
    found: set[ics.Busy] = set()
    for item in items:
        try:
            found.update(read(item))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ProviderError(unreadable) from error
    return sorted(found)
