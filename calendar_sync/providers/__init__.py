"""The kinds of calendar accounts the sync reads and the writer writes into, behind one
interface (``base.Provider``): CalDAV, Google Calendar, Microsoft Graph."""

from __future__ import annotations

from calendar_sync.providers.base import Found, Provider, ProviderError

__all__ = ["Found", "Provider", "ProviderError", "open_for"]


def open_for(connection) -> Provider:
    """An open conversation with a connection's account (``ProviderError`` when it can't
    be opened, e.g. its saved secret can no longer be read)."""
    from calendar_sync.models import ConnectionKind

    if connection.kind == ConnectionKind.CALDAV:
        from calendar_sync.providers.dav_account import DavProvider

        return DavProvider.open_for(connection)
    if connection.kind == ConnectionKind.GOOGLE:
        from calendar_sync.providers.google import GoogleProvider

        return GoogleProvider.open_for(connection)
    if connection.kind == ConnectionKind.MICROSOFT:
        from calendar_sync.providers.microsoft import MicrosoftProvider

        return MicrosoftProvider.open_for(connection)
    raise ProviderError(f"not an account: {connection.kind}")
