"""A coach's CalDAV account through the ``caldav`` library: its calendars, their events
between two instants, and writing or deleting one event.

Every address the server names (the account's, each calendar's, each redirect) passes
``config.outbound.check_address`` first, so an account can't make this server talk to its
own network; each request has ``CALDAV_TIMEOUT_SECONDS``. Failures come out as ``DavError``
in plain words for the coach's page."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import caldav
import icalendar
import requests
from caldav.lib import error as dav_errors
from django.conf import settings
from django.utils.translation import gettext as _

from calendar_sync.providers.base import Found, ProviderError
from config import crypto, outbound

__all__ = ["Account", "DavError", "Found", "open_account"]


class DavError(ProviderError):
    """What went wrong with the CalDAV account, in plain words."""


def _guard_redirects(response: requests.Response, *args, **kwargs) -> None:
    if response.is_redirect:
        outbound.check_address(requests.compat.urljoin(response.url, response.headers.get("Location", "")))


def _status_words(status: int | None) -> str:
    if status in (401, 403):
        return _("The server refused the user name or password. Use an app password if your provider asks for one.")
    if status in (404, 410):
        return _("There is no calendar at this address any more (HTTP %(status)s).") % {"status": status}
    if status and status >= 500:
        return _("The calendar's server had a problem (HTTP %(status)s); it will be tried again.") % {"status": status}
    if status:
        return _("The calendar's server answered HTTP %(status)s.") % {"status": status}
    return _("The calendar's server gave an answer that could not be understood.")


@contextlib.contextmanager
def _plain_errors() -> Iterator[None]:
    """Every failure of a CalDAV conversation as a ``DavError``."""
    try:
        yield
    except DavError:
        raise
    except outbound.OutboundError as error:
        raise DavError(error.message) from error
    except dav_errors.AuthorizationError as error:
        raise DavError(_status_words(401), status=401) from error
    except dav_errors.NotFoundError as error:
        raise DavError(_status_words(404), status=404) from error
    except dav_errors.DAVError as error:
        status = getattr(error, "status", None)
        try:
            status = int(status) if status is not None else None
        except (TypeError, ValueError):
            status = None
        raise DavError(_status_words(status), status=status) from error
    except requests.Timeout as error:
        raise DavError(
            _("The calendar's server did not answer within %(seconds)s seconds.")
            % {"seconds": settings.CALDAV_TIMEOUT_SECONDS}
        ) from error
    except requests.RequestException as error:
        raise DavError(_("The calendar's server could not be reached.")) from error
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise DavError(_status_words(None)) from error


class Account:
    """An open conversation with one CalDAV account (use it as a context manager)."""

    def __init__(self, url: str, username: str, password: str) -> None:
        with _plain_errors():
            self.url = outbound.check_address(url)
            self.client = caldav.DAVClient(
                url=self.url, username=username, password=password, timeout=settings.CALDAV_TIMEOUT_SECONDS
            )
            self.client.session.hooks["response"].append(_guard_redirects)

    def __enter__(self) -> Account:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def calendars(self) -> list[Found]:
        """The account's calendars that hold events, by name."""
        with _plain_errors():
            found = []
            for calendar in self.client.principal().calendars():
                outbound.check_address(str(calendar.url))
                try:
                    components = calendar.get_supported_components()
                except dav_errors.DAVError:
                    components = ["VEVENT"]
                if "VEVENT" not in components:
                    continue
                name = calendar.get_display_name() or str(calendar.url).rstrip("/").rsplit("/", 1)[-1]
                found.append(Found(url=str(calendar.url), name=str(name)))
            return sorted(found, key=lambda item: (item.name.lower(), item.url))

    def _calendar(self, url: str) -> caldav.Calendar:
        outbound.check_address(url)
        return caldav.Calendar(client=self.client, url=url)

    def events(self, urls: list[str], *, start: dt.datetime, end: dt.datetime) -> bytes:
        """The events of the calendars at ``urls`` that touch [start, end) as one iCalendar
        document (their recurring events whole, with their overrides and time zones), for
        ``calendar_sync.ics`` to expand."""
        document = icalendar.Calendar()
        document.add("prodid", "-//Booking//Calendar sync//EN")
        document.add("version", "2.0")
        zones: set[str] = set()
        with _plain_errors():
            for url in urls:
                calendar = self._calendar(url)
                for item in calendar.search(start=start, end=end, event=True, expand=False):
                    data = item.data
                    if not data:
                        continue
                    for component in icalendar.Calendar.from_ical(data).subcomponents:
                        if component.name == "VTIMEZONE":
                            key = str(component.get("TZID", ""))
                            if key in zones:
                                continue
                            zones.add(key)
                        if component.name in ("VTIMEZONE", "VEVENT"):
                            document.add_component(component)
        return document.to_ical()

    def put(self, calendar_url: str, document: bytes, *, href: str = "") -> str:
        """Write one event (``document``, a VCALENDAR) at ``href`` (a new one when empty);
        its address on the server."""
        with _plain_errors():
            calendar = self._calendar(calendar_url)
            if href:
                outbound.check_address(href)
                event = caldav.Event(client=self.client, url=href, data=document.decode(), parent=calendar)
                event.save(increase_seqno=False)
                return str(event.url)
            event = calendar.add_event(document.decode(), increase_seqno=False)
            return str(event.url)

    def delete(self, href: str) -> None:
        """Delete the event at ``href`` (already gone is fine)."""
        with _plain_errors():
            outbound.check_address(href)
            try:
                caldav.Event(client=self.client, url=href).delete()
            except dav_errors.NotFoundError:
                return


def open_account(connection) -> Account:
    """An open conversation with a connection's CalDAV account (``DavError`` when its saved
    password can't be read any more)."""
    try:
        password = crypto.decrypt(connection.password_encrypted)
    except crypto.Unreadable as error:
        raise DavError(_("The saved password can no longer be read: connect the account again.")) from error
    return Account(connection.url, connection.username, password)
