"""Promotion codes: a coach manages their own (for their session types), staff manage the
practice's and everyone's; the pages list them (code, discount, validity, "3 of 10" uses),
create and edit them through one service whose refusals show beside their field, and turn
them off. A coach never sees or changes another coach's codes; bad input is a 4xx page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from bookings import promos
from bookings.models import PromoCode
from bookings.pricing import find_promo
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory
from config.errors import DomainError, NotAllowed
from conftest import logged_in

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach():
    return CoachFactory(timezone="Europe/Paris", name="Carla Coach")


@pytest.fixture
def other_coach():
    return CoachFactory(name="Otto Other")


@pytest.fixture
def staff():
    return StaffFactory(timezone="Europe/Paris")


ONE_OF = "Give either a percentage off or an amount off (one of them, not both)."


def form_data(**changes) -> dict:
    return {
        "code": "spring 10",
        "description": "",
        "percent_off": "10",
        "amount_off": "",
        "currency": "",
        "valid_from": "",
        "valid_until": "",
        "max_uses": "",
        **changes,
    }


def errors_of(response) -> dict[str, str]:
    return {name: " ".join(messages) for name, messages in response.context["form"].errors.items()}


# --- the service -------------------------------------------------------------------------------


def test_a_coachs_code_is_normalised_and_good_for_their_type(coach) -> None:
    st = SessionTypeFactory(coach=coach)
    promo = promos.create_promo(actor=coach, coach=coach, code=" spring 10 ", percent_off=10, session_types=[st])
    assert promo.code == "SPRING10"
    assert promo.coach == coach
    assert list(promo.session_types.all()) == [st]
    assert find_promo("spring10", st, now=NOW) == promo


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"percent_off": None},
            "percent_off",
            "Give either a percentage off or an amount off (one of them, not both).",
        ),
        (
            {"amount_off": Decimal("5"), "currency": "EUR"},
            "percent_off",
            ONE_OF,
        ),
        ({"percent_off": 0}, "percent_off", "The percentage off must be between 1 and 100."),
        ({"percent_off": 101}, "percent_off", "The percentage off must be between 1 and 100."),
        (
            {"percent_off": None, "amount_off": Decimal("5")},
            "currency",
            "Give the currency of the amount as a 3-letter ISO 4217 code, e.g. EUR.",
        ),
        (
            {"percent_off": None, "amount_off": Decimal("0"), "currency": "EUR"},
            "amount_off",
            "The amount off must be more than 0.",
        ),
        (
            {"percent_off": None, "amount_off": Decimal("1.234"), "currency": "EUR"},
            "amount_off",
            "Give the amount off with at most 2 decimals, up to 9999999.99.",
        ),
        ({"code": "  "}, "code", "Give the code clients type, e.g. SPRING10."),
        (
            {"code": "A!"},
            "code",
            "A code has 3 to 40 letters or digits (and - or _), e.g. SPRING10; spaces are removed.",
        ),
        ({"code": "X" * 41}, "code", "A code has at most 40 characters."),
        (
            {"valid_from": NOW, "valid_until": NOW - dt.timedelta(hours=1)},
            "valid_until",
            "The code must end after it starts.",
        ),
        ({"max_uses": 0}, "max_uses", "Uses allowed: a whole number from 1, or empty for no limit."),
    ],
)
def test_the_service_refuses_bad_codes_naming_the_field(coach, fields, field, message) -> None:
    values = {"code": "SPRING10", "percent_off": 10, **fields}
    with pytest.raises(DomainError) as refused:
        promos.create_promo(actor=coach, coach=coach, **values)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert not PromoCode.objects.exists()


def test_a_taken_code_is_refused_whatever_its_case(coach, other_coach) -> None:
    promos.create_promo(actor=other_coach, coach=other_coach, code="WELCOME", percent_off=5)
    with pytest.raises(DomainError) as refused:
        promos.create_promo(actor=coach, coach=coach, code="welcome", percent_off=10)
    assert (refused.value.code, refused.value.status, refused.value.field) == ("name_taken", 409, "code")


def test_a_coachs_code_names_only_their_own_types(coach, other_coach) -> None:
    theirs = SessionTypeFactory(coach=other_coach, title="Their class")
    with pytest.raises(DomainError) as refused:
        promos.create_promo(actor=coach, coach=coach, code="MINE", percent_off=10, session_types=[theirs])
    assert refused.value.field == "session_types"
    assert refused.value.message == "“Their class” is not one of this coach's session types."


def test_a_coach_cant_make_a_practice_code_or_another_coachs(coach, other_coach) -> None:
    with pytest.raises(NotAllowed):
        promos.create_promo(actor=coach, coach=None, code="ALL", percent_off=10)
    with pytest.raises(NotAllowed):
        promos.create_promo(actor=coach, coach=other_coach, code="THEIRS", percent_off=10)
    with pytest.raises(NotAllowed):
        promos.create_promo(actor=ClientFactory(), coach=None, code="ALL", percent_off=10)


def test_staff_make_practice_codes_good_for_any_coachs_types(staff, coach, other_coach) -> None:
    st = SessionTypeFactory(coach=coach)
    other = SessionTypeFactory(coach=other_coach)
    promo = promos.create_promo(actor=staff, coach=None, code="PRACTICE", percent_off=20, session_types=[st, other])
    assert promo.coach is None
    assert find_promo("PRACTICE", other, now=NOW) == promo


def test_an_amount_code_keeps_its_currency_in_capitals_and_a_percentage_drops_it(coach) -> None:
    amount = promos.create_promo(
        actor=coach, coach=coach, code="FIVE", amount_off=Decimal("5.00"), currency="eur", percent_off=None
    )
    assert (amount.amount_off, amount.currency) == (Decimal("5.00"), "EUR")
    percent = promos.create_promo(actor=coach, coach=coach, code="TEN", percent_off=10, currency="EUR")
    assert percent.currency == ""


def test_uses_allowed_cant_go_below_the_uses_so_far(coach) -> None:
    promo = promos.create_promo(actor=coach, coach=coach, code="LIMITED", percent_off=10, max_uses=10)
    PromoCode.objects.filter(pk=promo.pk).update(times_used=3)
    with pytest.raises(DomainError) as refused:
        promos.update_promo(promo=promo, actor=coach, max_uses=2)
    assert refused.value.field == "max_uses"
    assert refused.value.message == "This code has been used 3 times already: allow at least that many."
    promo.refresh_from_db()
    assert promo.max_uses == 10
    assert promos.update_promo(promo=promo, actor=coach, max_uses=3).max_uses == 3


def test_a_coach_cant_change_or_turn_off_another_coachs_code(coach, other_coach) -> None:
    promo = promos.create_promo(actor=other_coach, coach=other_coach, code="OTTO", percent_off=10)
    with pytest.raises(NotAllowed):
        promos.update_promo(promo=promo, actor=coach, percent_off=90)
    with pytest.raises(NotAllowed):
        promos.set_promo_active(promo=promo, actor=coach, active=False)
    promo.refresh_from_db()
    assert (promo.percent_off, promo.is_active) == (10, True)


def test_a_code_turned_off_is_refused_at_booking(coach) -> None:
    st = SessionTypeFactory(coach=coach)
    promo = promos.create_promo(actor=coach, coach=coach, code="OFFNOW", percent_off=10)
    promos.set_promo_active(promo=promo, actor=coach, active=False)
    with pytest.raises(DomainError) as refused:
        find_promo("OFFNOW", st, now=NOW)
    assert refused.value.code == "invalid_promo_code"


# --- the pages ---------------------------------------------------------------------------------


def test_the_session_types_page_links_to_the_codes(coach) -> None:
    from accounts.models import CoachProfile

    CoachProfile.objects.get_or_create(user=coach)
    body = logged_in(coach).get(reverse("session_types")).content.decode()
    assert reverse("promo_list") in body


def test_the_list_shows_code_discount_validity_and_uses(coach) -> None:
    promos.create_promo(
        actor=coach,
        coach=coach,
        code="SPRING",
        percent_off=15,
        valid_until=dt.datetime(2027, 3, 31, 22, 0, tzinfo=dt.UTC),
        max_uses=10,
    )
    PromoCode.objects.filter(code="SPRING").update(times_used=3)
    promos.create_promo(actor=coach, coach=coach, code="FIVEOFF", amount_off=Decimal("5"), currency="EUR")
    response = logged_in(coach).get(reverse("promo_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "SPRING" in body and "15% off" in body
    assert "3 of 10" in body
    # Shown in the coach's zone: midnight in Paris.
    assert "until 2027-04-01 00:00" in body
    assert "5.00 EUR off" in body and "0 (no limit)" in body


def test_a_coach_sees_only_their_own_codes_and_staff_see_all(coach, other_coach, staff) -> None:
    promos.create_promo(actor=coach, coach=coach, code="CARLA", percent_off=10)
    promos.create_promo(actor=other_coach, coach=other_coach, code="OTTO", percent_off=10)
    promos.create_promo(actor=staff, coach=None, code="PRACTICE", percent_off=10)
    coach_page = logged_in(coach).get(reverse("promo_list")).content.decode()
    assert "CARLA" in coach_page and "OTTO" not in coach_page and "PRACTICE" not in coach_page
    staff_page = logged_in(staff).get(reverse("promo_list")).content.decode()
    assert all(code in staff_page for code in ("CARLA", "OTTO", "PRACTICE"))


def test_a_client_gets_404(coach) -> None:
    http = logged_in(ClientFactory())
    assert http.get(reverse("promo_list")).status_code == 404
    assert http.get(reverse("promo_new")).status_code == 404


def test_a_coach_creates_a_code_for_one_of_their_types(coach, other_coach) -> None:
    mine = GroupTypeFactory(coach=coach, title="My class")
    SessionTypeFactory(coach=other_coach, title="Their class")
    http = logged_in(coach)
    page = http.get(reverse("promo_new")).content.decode()
    assert "My class" in page and "Their class" not in page
    assert 'name="coach"' not in page
    response = http.post(
        reverse("promo_new"),
        form_data(session_types=[mine.pk], valid_from="2026-12-24T00:00", max_uses="10"),
    )
    assert response.status_code == 303
    promo = PromoCode.objects.get()
    assert (promo.code, promo.coach, promo.percent_off, promo.max_uses) == ("SPRING10", coach, 10, 10)
    # Midnight in the coach's zone (Paris, UTC+1 in December).
    assert promo.valid_from == dt.datetime(2026, 12, 23, 23, 0, tzinfo=dt.UTC)
    assert list(promo.session_types.all()) == [mine]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"amount_off": "5"},
            "percent_off",
            "Give either a percentage off or an amount off (one of them, not both).",
        ),
        ({"percent_off": "", "amount_off": "5"}, "currency", None),
        ({"percent_off": "150"}, "percent_off", "The percentage off must be between 1 and 100."),
        ({"percent_off": "ten"}, "percent_off", None),
        ({"code": "no!"}, "code", None),
        ({"valid_from": "2026-13-45T99:99"}, "valid_from", None),
        ({"valid_from": "2027-01-02T00:00", "valid_until": "2027-01-01T00:00"}, "valid_until", None),
        ({"max_uses": "-3"}, "max_uses", None),
    ],
)
def test_bad_input_on_the_page_is_a_400_with_the_message_beside_its_field(coach, changes, field, message) -> None:
    response = logged_in(coach).post(reverse("promo_new"), form_data(**changes))
    assert response.status_code == 400
    errors = errors_of(response)
    assert list(errors) == [field]
    if message is not None:
        assert errors[field] == message
    assert not PromoCode.objects.exists()


def test_a_type_of_another_coach_posted_by_hand_is_refused(coach, other_coach) -> None:
    theirs = SessionTypeFactory(coach=other_coach)
    response = logged_in(coach).post(reverse("promo_new"), form_data(session_types=[theirs.pk]))
    assert response.status_code == 400
    assert "session_types" in errors_of(response)


def test_a_taken_code_on_the_page_is_a_409_beside_the_code(coach, other_coach) -> None:
    promos.create_promo(actor=other_coach, coach=other_coach, code="SPRING10", percent_off=5)
    response = logged_in(coach).post(reverse("promo_new"), form_data())
    assert response.status_code == 409
    assert errors_of(response) == {"code": "The code SPRING10 is taken: choose another."}


def test_a_coach_edits_their_code_and_gets_404_for_another_coachs(coach, other_coach) -> None:
    mine = promos.create_promo(actor=coach, coach=coach, code="MINE", percent_off=10)
    theirs = promos.create_promo(actor=other_coach, coach=other_coach, code="THEIRS", percent_off=10)
    http = logged_in(coach)
    response = http.post(reverse("promo_edit", args=[mine.pk]), form_data(code="mine2", percent_off="20"))
    assert response.status_code == 303
    mine.refresh_from_db()
    assert (mine.code, mine.percent_off) == ("MINE2", 20)
    assert http.get(reverse("promo_edit", args=[theirs.pk])).status_code == 404
    assert http.post(reverse("promo_edit", args=[theirs.pk]), form_data(percent_off="90")).status_code == 404
    assert http.post(reverse("promo_toggle", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.percent_off, theirs.is_active) == (10, True)


def test_the_edit_form_shows_the_code_as_stored(coach) -> None:
    promo = promos.create_promo(
        actor=coach, coach=coach, code="SHOWN", amount_off=Decimal("7.50"), currency="EUR", max_uses=4
    )
    body = logged_in(coach).get(reverse("promo_edit", args=[promo.pk])).content.decode()
    assert 'value="SHOWN"' in body and 'value="7.50"' in body and 'value="4"' in body


def test_turning_a_code_off_and_on_again(coach) -> None:
    promo = promos.create_promo(actor=coach, coach=coach, code="FLIP", percent_off=10)
    http = logged_in(coach)
    assert http.get(reverse("promo_toggle", args=[promo.pk])).status_code == 405
    response = http.post(reverse("promo_toggle", args=[promo.pk]))
    assert response.status_code == 303
    promo.refresh_from_db()
    assert promo.is_active is False
    assert "Off" in http.get(reverse("promo_list")).content.decode()
    http.post(reverse("promo_toggle", args=[promo.pk]))
    promo.refresh_from_db()
    assert promo.is_active is True


def test_staff_create_a_code_for_a_coach_or_the_practice(staff, coach) -> None:
    st = SessionTypeFactory(coach=coach, title="Carla's call")
    http = logged_in(staff)
    page = http.get(reverse("promo_new")).content.decode()
    assert 'name="coach"' in page and "Carla's call · Carla Coach" in page.replace("&#x27;", "'")
    assert http.post(reverse("promo_new"), form_data(code="ALL20", percent_off="20")).status_code == 303
    assert PromoCode.objects.get(code="ALL20").coach is None
    response = http.post(reverse("promo_new"), form_data(code="CARLA5", coach=coach.pk, session_types=[st.pk]))
    assert response.status_code == 303
    assert PromoCode.objects.get(code="CARLA5").coach == coach


def test_staff_cant_give_a_coachs_code_another_coachs_types(staff, coach, other_coach) -> None:
    theirs = SessionTypeFactory(coach=other_coach, title="Otto's class")
    response = logged_in(staff).post(
        reverse("promo_new"), form_data(code="CARLA5", coach=coach.pk, session_types=[theirs.pk])
    )
    assert response.status_code == 400
    assert errors_of(response) == {"session_types": "“Otto's class” is not one of this coach's session types."}


def test_staff_edit_and_turn_off_any_coachs_code(staff, coach) -> None:
    promo = promos.create_promo(actor=coach, coach=coach, code="CARLA", percent_off=10)
    http = logged_in(staff)
    assert (
        http.post(reverse("promo_edit", args=[promo.pk]), form_data(code="CARLA", percent_off="30")).status_code == 303
    )
    assert http.post(reverse("promo_toggle", args=[promo.pk])).status_code == 303
    promo.refresh_from_db()
    assert (promo.percent_off, promo.is_active, promo.coach) == (30, False, coach)
