"""Sign-in throttling (accounts/adapter.py): guessing is slowed per address, per address
and account, and per account over unknown devices, but nobody can lock the owner out of a
device they have signed in from before."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client

from accounts.adapter import KNOWN_DEVICE_COOKIE
from accounts.tests.factories import PASSWORD, ClientFactory

pytestmark = pytest.mark.django_db

OWNER = "client@example.com"
WRONG = "not-the-password"
TOO_MANY = "Too many failed login attempts. Try again later."
CEILING = (
    "Too many failed sign-ins to this account from other places. Sign in from a device you "
    "have used before, or reset your password to sign in from this one."
)
NEW_PASSWORD = "a-quiet-Lighthouse-at-dusk-42"
ADDRESS_A = "203.0.113.10"
ADDRESS_B = "198.51.100.20"


@pytest.fixture(autouse=True)
def _clear_cache():
    # The counters live in the cache; one test's failures must not reach the next test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def traveller():
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) as traveller:
        yield traveller


def browser(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def log_in(http: Client, email: str, password: str):
    return http.post("/accounts/login/", {"login": email, "password": password})


def signed_in(http: Client) -> bool:
    return "_auth_user_id" in http.session


def refusal(response) -> list[str]:
    return response.context["form"].non_field_errors() if response.context else []


def known_device_at(address: str, email: str = OWNER, password: str = PASSWORD) -> Client:
    """A browser at ``address`` that has signed in to the account and signed out again."""
    http = browser(address)
    assert log_in(http, email, password).status_code == 302
    assert KNOWN_DEVICE_COOKIE in http.cookies
    http.post("/accounts/logout/")
    assert not signed_in(http)
    return http


def guess(address: str, times: int, email: str = OWNER) -> list:
    attacker = browser(address)
    return [log_in(attacker, email, WRONG) for _ in range(times)]


# --- nobody locks the owner out -------------------------------------------------------------


def test_wrong_passwords_from_one_address_do_not_stop_the_owner_at_another(client_user):
    answers = guess(ADDRESS_A, 20)

    assert "are not correct" in answers[0].content.decode()
    assert refusal(answers[-1]) == [TOO_MANY]  # the guesser is stopped...
    owner = browser(ADDRESS_B)
    response = log_in(owner, OWNER, PASSWORD)  # ...the owner, elsewhere and unknown, is not

    assert response.status_code == 302
    assert signed_in(owner)


def test_the_owners_known_device_at_the_guessers_address_still_signs_in(client_user):
    device = known_device_at(ADDRESS_A)

    # Enough to use up every limit of that address: per account and per address.
    answers = guess(ADDRESS_A, 40)
    others = [log_in(browser(ADDRESS_A), f"nobody{n}@example.com", WRONG) for n in range(40)]
    assert refusal(answers[-1]) == [TOO_MANY]
    assert refusal(others[-1]) == [TOO_MANY]
    assert refusal(log_in(browser(ADDRESS_A), OWNER, PASSWORD)) == [TOO_MANY]  # unknown there: refused

    response = log_in(device, OWNER, PASSWORD)

    assert response.status_code == 302
    assert signed_in(device)


def test_guessing_from_many_addresses_does_not_stop_a_known_device(client_user):
    device = known_device_at(ADDRESS_B)
    for n in range(25):
        guess(f"192.0.2.{n + 1}", 5)

    unknown = browser("203.0.113.99")
    assert refusal(log_in(unknown, OWNER, PASSWORD)) == [CEILING]
    assert not signed_in(unknown)

    response = log_in(device, OWNER, PASSWORD)

    assert response.status_code == 302
    assert signed_in(device)


def test_a_password_reset_signs_the_owner_in_and_makes_the_browser_known(client_user):
    for n in range(25):
        guess(f"192.0.2.{n + 1}", 5)
    owner = browser("203.0.113.99")
    assert refusal(log_in(owner, OWNER, PASSWORD)) == [CEILING]

    owner.post("/accounts/password/reset/", {"email": OWNER})
    reset_path = re.search(r"http://testserver(/\S+)", mail.outbox[-1].body).group(1)
    set_password_path = owner.get(reset_path, follow=True).redirect_chain[-1][0]
    done = owner.post(set_password_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert done.status_code == 302
    assert signed_in(owner)
    assert KNOWN_DEVICE_COOKIE in owner.cookies
    owner.post("/accounts/logout/")
    assert log_in(owner, OWNER, NEW_PASSWORD).status_code == 302
    assert signed_in(owner)


def test_one_persons_failures_do_not_touch_a_colleague_behind_the_same_address(client_user):
    ClientFactory(email="colleague@example.com")
    guess(ADDRESS_A, 10)

    colleague = browser(ADDRESS_A)
    assert log_in(colleague, "colleague@example.com", PASSWORD).status_code == 302


# --- guessing is refused ---------------------------------------------------------------------


def test_guessing_from_one_address_is_refused_after_five_even_with_the_right_password(client_user):
    answers = guess(ADDRESS_A, 5)
    assert all("are not correct" in answer.content.decode() for answer in answers)

    same_place = browser(ADDRESS_A)
    sixth = log_in(same_place, OWNER, WRONG)
    right = log_in(same_place, OWNER, PASSWORD)

    assert refusal(sixth) == [TOO_MANY]
    assert TOO_MANY in sixth.content.decode()
    assert refusal(right) == [TOO_MANY]
    assert not signed_in(same_place)


def test_one_address_is_slowed_across_accounts(client_user):
    others = [log_in(browser(ADDRESS_A), f"nobody{n}@example.com", WRONG) for n in range(30)]
    assert all("are not correct" in answer.content.decode() for answer in others)

    response = log_in(browser(ADDRESS_A), OWNER, PASSWORD)

    assert refusal(response) == [TOO_MANY]


def test_a_known_device_is_limited_on_its_own(client_user):
    device = known_device_at(ADDRESS_A)

    answers = [log_in(device, OWNER, WRONG) for _ in range(11)]

    assert "are not correct" in answers[9].content.decode()
    assert refusal(answers[10]) == [TOO_MANY]
    elsewhere = browser(ADDRESS_B)
    assert log_in(elsewhere, OWNER, PASSWORD).status_code == 302


def test_a_forged_known_device_cookie_counts_for_nothing(client_user):
    device = known_device_at(ADDRESS_B)
    signed = device.cookies[KNOWN_DEVICE_COOKIE].value
    forger = browser(ADDRESS_A)
    _device_id, _sep, rest = signed.partition("|")
    # The owner's accounts and signature under another device id: the signature fails.
    forger.cookies[KNOWN_DEVICE_COOKIE] = f"forged|{rest}"

    answers = [log_in(forger, OWNER, WRONG) for _ in range(6)]

    assert refusal(answers[-1]) == [TOO_MANY]


def test_right_passwords_are_not_counted(client_user):
    http = browser(ADDRESS_A)
    for _ in range(12):
        assert log_in(http, OWNER, PASSWORD).status_code == 302
        http.post("/accounts/logout/")
    http.cookies.pop(KNOWN_DEVICE_COOKIE)
    guess(ADDRESS_A, 4)

    assert log_in(http, OWNER, PASSWORD).status_code == 302


# --- the limits end with their window -----------------------------------------------------------


def test_the_address_and_account_limit_resets_after_five_minutes(client_user, traveller):
    guess(ADDRESS_A, 6)
    same_place = browser(ADDRESS_A)
    assert refusal(log_in(same_place, OWNER, PASSWORD)) == [TOO_MANY]

    traveller.shift(timedelta(minutes=4))
    assert refusal(log_in(same_place, OWNER, PASSWORD)) == [TOO_MANY]

    traveller.shift(timedelta(minutes=1, seconds=1))
    response = log_in(same_place, OWNER, PASSWORD)

    assert response.status_code == 302
    assert signed_in(same_place)


def test_the_address_limit_resets_after_a_minute(client_user, traveller):
    for n in range(30):
        log_in(browser(ADDRESS_A), f"nobody{n}@example.com", WRONG)
    assert refusal(log_in(browser(ADDRESS_A), OWNER, PASSWORD)) == [TOO_MANY]

    traveller.shift(timedelta(seconds=61))

    assert log_in(browser(ADDRESS_A), OWNER, PASSWORD).status_code == 302


def test_an_address_gets_twenty_guesses_at_an_account_an_hour(client_user, traveller):
    for _ in range(4):
        guess(ADDRESS_A, 5)
        traveller.shift(timedelta(minutes=5, seconds=1))
    assert refusal(log_in(browser(ADDRESS_A), OWNER, WRONG)) == [TOO_MANY]

    traveller.shift(timedelta(minutes=40))

    assert log_in(browser(ADDRESS_A), OWNER, PASSWORD).status_code == 302


def test_the_account_ceiling_resets_after_an_hour(client_user, traveller):
    for n in range(25):
        guess(f"192.0.2.{n + 1}", 5)
    assert refusal(log_in(browser(ADDRESS_B), OWNER, PASSWORD)) == [CEILING]

    traveller.shift(timedelta(minutes=59))
    assert refusal(log_in(browser(ADDRESS_B), OWNER, PASSWORD)) == [CEILING]

    traveller.shift(timedelta(minutes=1, seconds=1))
    owner = browser(ADDRESS_B)

    assert log_in(owner, OWNER, PASSWORD).status_code == 302
    assert signed_in(owner)
