"""The priority score: each factor's normalisation and the seeds' weights, against values
worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from waitlist.scoring import WEIGHTS, Facts, factors, score

DAY = dt.timedelta(days=1)


def facts(**given) -> Facts:
    base = {
        "connected": False,
        "attended": 0,
        "booked": 0,
        "cancelled": 0,
        "waited": dt.timedelta(0),
        "account_age": dt.timedelta(0),
        "recent_offers": 0,
    }
    return Facts(**{**base, **given})


def test_the_weights_are_the_seeds():
    assert WEIGHTS == {
        "connection": 0.3,
        "booking_history": 0.2,
        "cancellation_rate": -0.2,
        "waiting_time": 0.15,
        "account_age": 0.1,
        "previous_offers": 0.05,
    }


# (facts, expected factors in WEIGHTS' order, expected score) — each score by hand:
CASES = [
    # A new client: no history, just joined, never offered: only "previous offers" counts.
    (facts(), (0, 0, 0, 0, 0, 1), 0.05),
    # Connected, 5 sessions attended (0.5), 1 of 4 bookings cancelled (0.25), waited 7 days
    # (0.5), account 73 days old (0.2), one offer lately (2/3):
    # 0.3 + 0.2·0.5 − 0.2·0.25 + 0.15·0.5 + 0.1·0.2 + 0.05·(2/3) = 0.478333
    (
        facts(
            connected=True,
            attended=5,
            booked=4,
            cancelled=1,
            waited=7 * DAY,
            account_age=73 * DAY,
            recent_offers=1,
        ),
        (1, 0.5, 0.25, 0.5, 0.2, 2 / 3),
        0.478333,
    ),
    # Everything at its cap: 12 sessions, 30 days waited, 3 years old, 5 offers; cancelled
    # every booking: 0.3 + 0.2 − 0.2 + 0.15 + 0.1 + 0 = 0.55
    (
        facts(
            connected=True,
            attended=12,
            booked=3,
            cancelled=3,
            waited=30 * DAY,
            account_age=3 * 365 * DAY,
            recent_offers=5,
        ),
        (1, 1, 1, 1, 1, 0),
        0.55,
    ),
    # Unconnected, 2 sessions (0.2), no cancellations of 10, 3.5 days (0.25), a year (1),
    # two offers (1/3): 0.04 + 0.0375 + 0.1 + 0.016667 = 0.194167
    (
        facts(attended=2, booked=10, waited=3.5 * DAY, account_age=400 * DAY, recent_offers=2),
        (0, 0.2, 0, 0.25, 1, 1 / 3),
        0.194167,
    ),
]


@pytest.mark.parametrize(("given", "expected", "total"), CASES)
def test_factors_and_score_by_hand(given, expected, total):
    values = factors(given)
    assert list(values) == list(WEIGHTS)
    assert [round(values[name], 6) for name in WEIGHTS] == [round(value, 6) for value in expected]
    assert all(0.0 <= value <= 1.0 for value in values.values())
    assert score(values) == pytest.approx(total, abs=1e-6)


def test_staffs_adjustment_adds_to_the_score():
    values = factors(facts())
    assert score(values, adjustment=0.25) == pytest.approx(0.30)
    assert score(values, adjustment=-0.05) == pytest.approx(0.0)
