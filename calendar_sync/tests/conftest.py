import pytest

from calendar_sync.tests.fake_calendar import FakeCalendars


@pytest.fixture
def calendars(settings):
    """Calendars served on 127.0.0.1, which a sync may then fetch."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    fake = FakeCalendars()
    yield fake
    fake.stop()


@pytest.fixture
def radicale(settings):
    """A real CalDAV server (Radicale) on 127.0.0.1, with one user."""
    from calendar_sync.tests.radicale_server import Radicale

    settings.OUTBOUND_ALLOW_PRIVATE = True
    server = Radicale()
    yield server
    server.stop()
