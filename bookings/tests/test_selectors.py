"""Reads shared by pages and the API: what a malformed id or reference answers."""

from __future__ import annotations

import pytest
from django.http import Http404

from bookings import selectors


@pytest.mark.parametrize("value", ["BK-%00", "BK-2026-\x00", "bk-2026-000001", "12abc", "9" * 30, "", "BK-2026-1"])
def test_malformed_ids_and_references_are_not_found_without_a_query(value, staff_user, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(Http404):
        selectors.get_booking_for(staff_user, value)


def test_a_well_formed_unknown_reference_is_not_found(staff_user):
    with pytest.raises(Http404):
        selectors.get_booking_for(staff_user, "BK-2026-000001")
