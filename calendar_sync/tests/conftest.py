import pytest

from calendar_sync.tests.fake_calendar import FakeCalendars


@pytest.fixture
def calendars(settings):
    """Calendars served on 127.0.0.1, which a sync may then fetch."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    fake = FakeCalendars()
    yield fake
    fake.stop()
