"""The time-zone picker's list: canonical zones by region, each with its city and its UTC
offset at the moment the page is drawn."""

from __future__ import annotations

import datetime as dt

from accounts.forms import ProfileForm
from accounts.validators import timezone_groups, utc_offset_label, zone_city
from config.inputs import canonical_zones

WINTER = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)
SUMMER = dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC)


def test_a_zone_is_named_after_its_city() -> None:
    assert zone_city("Europe/Paris") == "Paris"
    assert zone_city("America/Argentina/Buenos_Aires") == "Buenos Aires (Argentina)"
    assert zone_city("America/Indiana/Indianapolis") == "Indianapolis (Indiana)"


def test_offsets_are_those_of_the_moment() -> None:
    assert utc_offset_label("Asia/Kathmandu", WINTER) == "UTC+05:45"
    assert utc_offset_label("Europe/Paris", WINTER) == "UTC+01:00"
    assert utc_offset_label("Europe/Paris", SUMMER) == "UTC+02:00"
    assert utc_offset_label("America/St_Johns", WINTER) == "UTC-03:30"
    assert utc_offset_label("UTC", SUMMER) == "UTC+00:00"


def test_groups_are_regions_of_canonical_zones_only() -> None:
    groups = timezone_groups(WINTER)
    assert [label for label, _ in groups] == [
        "UTC",
        "Africa",
        "Americas",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian Ocean",
        "Pacific",
    ]
    names = [name for _, zones in groups for name, _, _ in zones]
    assert len(names) == len(set(names))
    assert set(names) <= canonical_zones()
    assert "Asia/Calcutta" not in names and "US/Eastern" not in names
    asia = dict(groups)["Asia"]
    assert ("Asia/Kathmandu", "Kathmandu", "UTC+05:45") in asia
    assert [city for _, city, _ in asia] == sorted((city for _, city, _ in asia), key=str.casefold)


def test_the_select_has_optgroups_and_keeps_the_saved_zone() -> None:
    html = str(ProfileForm(initial={"timezone": "Asia/Kathmandu"})["timezone"])
    assert html.count("<optgroup") == html.count("</optgroup>") == 10
    assert '<optgroup label="Asia">' in html
    assert '<option value="Asia/Kathmandu" selected>Kathmandu — UTC+05:45</option>' in html
    assert "data-tz-picker" in html
