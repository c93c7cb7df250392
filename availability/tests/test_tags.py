"""Client tags and their rules: the services (names, ranges, whose session types, who may
tag whom, idempotent tagging), who may manage a tag, the pages (list, form with its rule
rows, delete, the tag's clients, the pills on the coach's clients page) and the API."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ClientTag, ClientTagging, ConnectionStatus
from accounts.tests.factories import (
    AdminFactory,
    ClientFactory,
    CoachFactory,
    ConnectionFactory,
    StaffFactory,
    make_token,
)
from availability import tags
from availability.models import TagRule
from availability.tags import RuleSpec
from config.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)


# --- data -------------------------------------------------------------------------------


@pytest.fixture
def coach():
    return CoachFactory(name="Camille Coach", email="camille@example.com")


@pytest.fixture
def other_coach():
    return CoachFactory(name="Marcus Coach", email="marcus@example.com")


@pytest.fixture
def staff():
    return StaffFactory(name="Sam Staff")


@pytest.fixture
def client_user(coach):
    client = ClientFactory(name="Nora Client", email="nora@example.com")
    ConnectionFactory(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    return client


@pytest.fixture
def stranger():
    return ClientFactory(name="Zed Stranger", email="zed@example.com")


def session_type(coach, title="Intro call", **fields):
    # The scheduling core's tests make session types through the coach's relation (no import
    # of the bookings layer above).
    return coach.session_types.create(title=title, duration_minutes=60, capacity=1, **fields)


def booked(client, coach, *, status="firm_booked"):
    """A booking of ``client`` with ``coach``, written as rows (the booking services live in
    the layer above)."""
    st = session_type(coach, title=f"Booked {client.pk}")
    session = coach.hosted_sessions.create(session_type=st, start=START, end=START + dt.timedelta(hours=1))
    return session.bookings.create(client=client, booked_by=client, reference=f"BK-T-{session.pk}", status=status)


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


# --- who may manage a tag ---------------------------------------------------------------


def test_who_may_manage_a_tag(coach, other_coach, staff, client_user):
    own = tags.create_tag(actor=coach, coach=coach, name="VIP")
    practice = tags.create_tag(actor=staff, coach=None, name="New client")
    admin = AdminFactory()
    assert tags.can_manage_tag(coach, own)
    assert not tags.can_manage_tag(other_coach, own)
    assert not tags.can_manage_tag(coach, practice)
    assert not tags.can_manage_tag(client_user, own)
    assert tags.can_manage_tag(staff, own) and tags.can_manage_tag(staff, practice)
    assert tags.can_manage_tag(admin, own) and tags.can_manage_tag(admin, practice)
    staff.is_active = False
    assert not tags.can_manage_tag(staff, practice)


# --- tags ---------------------------------------------------------------------------------


def test_a_coach_makes_a_tag_with_a_trimmed_name(coach):
    tag = tags.create_tag(actor=coach, coach=coach, name="  Sliding   scale ", description=" Pays less ", priority=5)
    assert (tag.name, tag.description, tag.priority, tag.coach) == ("Sliding scale", "Pays less", 5, coach)


def test_a_name_is_unique_per_owner_whatever_its_case(coach, other_coach, staff):
    tags.create_tag(actor=coach, coach=coach, name="VIP")
    with pytest.raises(DomainError) as refused:
        tags.create_tag(actor=coach, coach=coach, name="vip")
    assert refused.value.field == "name" and "already a tag named" in refused.value.message
    # Another coach, and the practice, may have their own VIP.
    assert tags.create_tag(actor=other_coach, coach=other_coach, name="VIP").coach == other_coach
    tags.create_tag(actor=staff, coach=None, name="VIP")
    with pytest.raises(DomainError, match="The practice already has"):
        tags.create_tag(actor=staff, coach=None, name="Vip ")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "  "}, "name", "Give the tag a name"),
        ({"name": "x" * 41}, "name", "at most 40"),
        ({"name": "A\x00B"}, "name", "NUL"),
        ({"description": "d" * 201}, "description", "at most 200"),
        ({"priority": 101}, "priority", "between 0 and 100"),
        ({"priority": -1}, "priority", "between 0 and 100"),
    ],
)
def test_a_tag_with_bad_values_is_refused_naming_the_field(coach, changes, field, words):
    values = {"name": "VIP", **changes}
    with pytest.raises(DomainError) as refused:
        tags.create_tag(actor=coach, coach=coach, **values)
    assert refused.value.field == field and words in refused.value.message
    assert not ClientTag.objects.exists()


def test_who_makes_whose_tags(coach, other_coach, staff, client_user):
    with pytest.raises(NotAllowed):
        tags.create_tag(actor=coach, coach=None, name="Practice")
    with pytest.raises(NotAllowed):
        tags.create_tag(actor=coach, coach=other_coach, name="Theirs")
    with pytest.raises(NotAllowed):
        tags.create_tag(actor=client_user, coach=coach, name="Mine")
    with pytest.raises(DomainError, match="not a coach"):
        tags.create_tag(actor=staff, coach=client_user, name="Client's")
    assert tags.create_tag(actor=staff, coach=other_coach, name="Made by staff").coach == other_coach


def test_rename_and_delete(coach, other_coach, staff):
    vip = tags.create_tag(actor=coach, coach=coach, name="VIP")
    tags.create_tag(actor=coach, coach=coach, name="New")
    with pytest.raises(DomainError, match="already a tag"):
        tags.update_tag(actor=coach, tag=vip, name="NEW")
    assert tags.update_tag(actor=coach, tag=vip, name="VIP+", priority=3).name == "VIP+"
    vip.refresh_from_db()
    assert (vip.name, vip.priority) == ("VIP+", 3)
    # Renaming to its own name in another case is fine.
    assert tags.update_tag(actor=coach, tag=vip, name="vip+").name == "vip+"
    with pytest.raises(NotAllowed):
        tags.update_tag(actor=other_coach, tag=vip, name="Mine")
    with pytest.raises(NotAllowed):
        tags.delete_tag(actor=other_coach, tag=vip)
    tags.update_tag(actor=staff, tag=vip, description="Set by staff")
    tags.delete_tag(actor=staff, tag=vip)
    assert not ClientTag.objects.filter(pk=vip.pk).exists()


def test_deleting_a_tag_takes_its_rules_and_taggings_with_it(coach, client_user):
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP", rules=[RuleSpec(approval="never")])
    tags.tag_client(actor=coach, tag=tag, client=client_user)
    tags.delete_tag(actor=coach, tag=tag)
    assert not TagRule.objects.exists() and not ClientTagging.objects.exists()
    assert client_user.coach_connections.exists()


# --- rules --------------------------------------------------------------------------------


def test_rules_for_every_type_and_per_type_are_replaced_whole(coach):
    intro, deep = session_type(coach, "Intro"), session_type(coach, "Deep dive")
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    tags.set_tag_rules(
        actor=coach,
        tag=tag,
        rules=[
            RuleSpec(approval="never", minimum_notice_hours=2),
            RuleSpec(session_type_id=intro.pk, booking_window_days=60, max_per_day=2, max_per_week=5),
            RuleSpec(session_type_id=deep.pk),  # blank: no rule
        ],
    )
    rules = tags.rules_of(tag)
    assert [(r.session_type_id, r.approval, r.minimum_notice_hours) for r in rules] == [
        (None, "never", 2),
        (intro.pk, "", None),
    ]
    assert tags.describe_rules(tag) == [
        "every type: never needs approval; notice 2 h",
        "Intro: books up to 60 days ahead; at most 2 a day; at most 5 a week",
    ]
    first_id = rules[0].pk
    # The next set replaces the whole: Intro's rule goes, the every-type one is changed in place.
    tags.set_tag_rules(actor=coach, tag=tag, rules=[RuleSpec(approval="always", price_adjustment_percent=-20)])
    (rule,) = tags.rules_of(tag)
    assert (rule.pk, rule.approval, rule.minimum_notice_hours, rule.price_adjustment_percent) == (
        first_id,
        "always",
        None,
        -20,
    )
    assert tags.describe_rule(rule) == "every type: every booking is a request; price −20 %"


@pytest.mark.parametrize(
    ("rule", "field", "words"),
    [
        (RuleSpec(approval="sometimes"), "approval", "Approval is"),
        (RuleSpec(minimum_notice_hours=721), "minimum_notice_hours", "between 0 and 720"),
        (RuleSpec(minimum_notice_hours=-1), "minimum_notice_hours", "between 0 and 720"),
        (RuleSpec(booking_window_days=0), "booking_window_days", "between 1 and 365"),
        (RuleSpec(max_per_day=49), "max_per_day", "between 1 and 48"),
        (RuleSpec(max_per_week=0), "max_per_week", "between 1 and 200"),
        (RuleSpec(price_adjustment_percent=-101), "price_adjustment_percent", "between -100 and 100"),
        (RuleSpec(waitlist_priority=101), "waitlist_priority", "between 0 and 100"),
        (RuleSpec(max_per_day=3, max_per_week=2), "max_per_week", "weekly limit cannot be lower"),
        (RuleSpec(minimum_notice_hours=True), "minimum_notice_hours", "whole number"),
    ],
)
def test_a_rule_out_of_range_is_refused_and_nothing_changes(coach, rule, field, words):
    intro = session_type(coach)
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP", rules=[RuleSpec(minimum_notice_hours=4)])
    with pytest.raises(DomainError) as refused:
        tags.set_tag_rules(actor=coach, tag=tag, rules=[RuleSpec(session_type_id=intro.pk, max_per_day=1), rule])
    assert refused.value.field == f"rules.1.{field}"
    assert words in refused.value.message
    assert [(r.minimum_notice_hours, r.max_per_day) for r in tags.rules_of(tag)] == [(4, None)]


def test_a_coach_tag_names_only_the_coach_own_session_types(coach, other_coach, staff):
    theirs = session_type(other_coach, "Theirs")
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    for actor in (coach, staff):
        with pytest.raises(DomainError) as refused:
            tags.set_tag_rules(actor=actor, tag=tag, rules=[RuleSpec(session_type_id=theirs.pk, max_per_day=1)])
        assert (refused.value.code, refused.value.field) == ("unknown_session_type", "rules.0.session_type")
    with pytest.raises(DomainError, match="no session type"):
        practice = tags.create_tag(actor=staff, coach=None, name="Practice")
        tags.set_tag_rules(actor=staff, tag=practice, rules=[RuleSpec(session_type_id=10**6, max_per_day=1)])
    # A practice tag may name any coach's type.
    tags.set_tag_rules(actor=staff, tag=practice, rules=[RuleSpec(session_type_id=theirs.pk, max_per_day=1)])
    assert [r.session_type_id for r in tags.rules_of(practice)] == [theirs.pk]


def test_one_rule_per_session_type_and_one_for_every_type(coach):
    intro = session_type(coach)
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    for rules in (
        [RuleSpec(max_per_day=1), RuleSpec(max_per_day=2)],
        [RuleSpec(session_type_id=intro.pk, max_per_day=1), RuleSpec(session_type_id=intro.pk, max_per_day=2)],
    ):
        with pytest.raises(DomainError, match="already a rule") as refused:
            tags.set_tag_rules(actor=coach, tag=tag, rules=rules)
        assert refused.value.field == "rules.1.session_type"


def test_only_a_manager_sets_rules(coach, other_coach, staff):
    tag = tags.create_tag(actor=staff, coach=None, name="Practice")
    with pytest.raises(NotAllowed):
        tags.set_tag_rules(actor=coach, tag=tag, rules=[RuleSpec(approval="never")])
    mine = tags.create_tag(actor=coach, coach=coach, name="Mine")
    with pytest.raises(NotAllowed):
        tags.set_tag_rules(actor=other_coach, tag=mine, rules=[RuleSpec(approval="never")])
    assert not TagRule.objects.exists()


def test_a_new_tag_with_a_bad_rule_is_not_made(coach):
    with pytest.raises(DomainError):
        tags.create_tag(actor=coach, coach=coach, name="VIP", rules=[RuleSpec(max_per_day=0)])
    assert not ClientTag.objects.exists()


# --- who wears a tag ------------------------------------------------------------------------


def test_a_coach_tags_a_connected_client_once(coach, client_user):
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    tagging, created = tags.tag_client(actor=coach, tag=tag, client=client_user)
    assert created and tagging.added_by == coach
    again, created = tags.tag_client(actor=coach, tag=tag, client=client_user)
    assert not created and again.pk == tagging.pk
    assert list(client_user.tags.all()) == [tag]
    assert tags.untag_client(actor=coach, tag=tag, client=client_user)
    assert not tags.untag_client(actor=coach, tag=tag, client=client_user)
    assert not client_user.tags.exists()


def test_a_coach_tags_only_their_clients(coach, other_coach, stranger):
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    with pytest.raises(NotAllowed) as refused:
        tags.tag_client(actor=coach, tag=tag, client=stranger)
    assert refused.value.code == "not_connected"
    # A request still waiting, or one declined, is no connection.
    connection = ConnectionFactory(client=stranger, coach=coach, status=ConnectionStatus.PENDING)
    with pytest.raises(NotAllowed):
        tags.tag_client(actor=coach, tag=tag, client=stranger)
    connection.status = ConnectionStatus.DECLINED
    connection.save()
    with pytest.raises(NotAllowed):
        tags.tag_client(actor=coach, tag=tag, client=stranger)
    # A booking with another coach doesn't count; one with this coach does (even cancelled).
    booked(stranger, other_coach)
    with pytest.raises(NotAllowed):
        tags.tag_client(actor=coach, tag=tag, client=stranger)
    booked(stranger, coach, status="cancelled")
    assert tags.tag_client(actor=coach, tag=tag, client=stranger)[1]


def test_staff_tag_any_active_client_and_nobody_else(coach, staff, stranger):
    practice = tags.create_tag(actor=staff, coach=None, name="Sliding scale")
    coach_tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    assert tags.tag_client(actor=staff, tag=practice, client=stranger)[1]
    assert tags.tag_client(actor=staff, tag=coach_tag, client=stranger)[1]
    for person in (coach, staff, AdminFactory()):
        with pytest.raises(DomainError) as refused:
            tags.tag_client(actor=staff, tag=practice, client=person)
        assert refused.value.code == "not_a_client"
    gone = ClientFactory(is_active=False)
    gone.is_active = False
    gone.save()
    with pytest.raises(DomainError, match="Only active client"):
        tags.tag_client(actor=staff, tag=practice, client=gone)


def test_a_coach_cannot_put_on_or_take_off_a_practice_tag(coach, staff, client_user):
    practice = tags.create_tag(actor=staff, coach=None, name="Sliding scale")
    with pytest.raises(NotAllowed):
        tags.tag_client(actor=coach, tag=practice, client=client_user)
    tags.tag_client(actor=staff, tag=practice, client=client_user)
    with pytest.raises(NotAllowed):
        tags.untag_client(actor=coach, tag=practice, client=client_user)
    assert client_user.tags.filter(pk=practice.pk).exists()


def test_a_coach_takes_their_tag_off_a_client_no_longer_connected(coach, client_user):
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    tags.tag_client(actor=coach, tag=tag, client=client_user)
    client_user.coach_connections.update(status=ConnectionStatus.DECLINED)
    found = tags.client_for_tagging(coach, tag, client_user.pk)
    assert tags.untag_client(actor=coach, tag=tag, client=found)


def test_client_for_tagging_hides_other_clients(coach, stranger, client_user):
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    assert tags.client_for_tagging(coach, tag, client_user.pk) == client_user
    for pk in (stranger.pk, coach.pk, 10**6):
        with pytest.raises(DomainError) as refused:
            tags.client_for_tagging(coach, tag, pk)
        assert refused.value.status == 404


# --- reads ----------------------------------------------------------------------------------


def test_tags_of_a_client_with_a_coach_are_the_coach_own_and_the_practice(coach, other_coach, staff, client_user):
    ConnectionFactory(client=client_user, coach=other_coach, status=ConnectionStatus.ACCEPTED)
    mine = tags.create_tag(actor=coach, coach=coach, name="VIP", priority=5)
    theirs = tags.create_tag(actor=other_coach, coach=other_coach, name="Theirs")
    practice = tags.create_tag(actor=staff, coach=None, name="Sliding scale")
    unworn = tags.create_tag(actor=coach, coach=coach, name="Unworn")
    for tag, actor in ((mine, coach), (theirs, other_coach), (practice, staff)):
        tags.tag_client(actor=actor, tag=tag, client=client_user)
    assert set(tags.tags_of(client_user, coach)) == {mine, practice}
    assert set(tags.tags_of(client_user, other_coach)) == {theirs, practice}
    assert unworn not in tags.tags_of(client_user, coach)


def test_who_sees_which_tags(coach, other_coach, staff, client_user):
    mine = tags.create_tag(actor=coach, coach=coach, name="VIP")
    theirs = tags.create_tag(actor=other_coach, coach=other_coach, name="Theirs")
    practice = tags.create_tag(actor=staff, coach=None, name="Practice")
    tags.tag_client(actor=coach, tag=mine, client=client_user)
    assert set(tags.tags_visible_to(coach)) == {mine, practice}
    assert set(tags.tags_visible_to(staff)) == {mine, theirs, practice}
    assert not tags.tags_visible_to(client_user).exists()
    assert tags.tags_visible_to(coach).get(pk=mine.pk).client_count == 1


# --- pages ----------------------------------------------------------------------------------


RULE_FIELDS = (
    "approval",
    "minimum_notice_hours",
    "booking_window_days",
    "max_per_day",
    "max_per_week",
    "price_adjustment_percent",
    "waitlist_priority",
)


def tag_form(name="VIP", *, description="", priority="0", rows=("all",), **values) -> dict[str, str]:
    """The tag form as posted: ``values`` are ``<row>__<field>`` (row ``all`` or a type id)."""
    data = {"name": name, "description": description, "priority": priority}
    for row in rows:
        for field in RULE_FIELDS:
            data[f"rule-{row}-{field}"] = ""
    for key, value in values.items():
        row, field = key.split("__")
        data[f"rule-{row}-{field}"] = str(value)
    return data


def test_the_list_shows_each_tag_rules_in_words_and_how_many_wear_it(coach, other_coach, staff, client_user):
    tag = tags.create_tag(
        actor=coach, coach=coach, name="VIP", rules=[RuleSpec(approval="never", minimum_notice_hours=2)]
    )
    tags.tag_client(actor=coach, tag=tag, client=client_user)
    tags.create_tag(actor=other_coach, coach=other_coach, name="Not yours")
    tags.create_tag(actor=staff, coach=None, name="Sliding scale")
    response = logged_in(coach).get(reverse("client_tags"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "VIP" in page and "every type: never needs approval; notice 2 h" in page
    assert "1 client" in page
    assert "Sliding scale" in page and "Set by staff" in page
    assert "Not yours" not in page
    staff_page = logged_in(staff).get(reverse("client_tags")).content.decode()
    assert "Not yours" in staff_page and "Tags of Marcus Coach" in staff_page


@pytest.mark.parametrize("name", ["client_tags", "client_tag_create"])
def test_clients_and_visitors_do_not_get_the_pages(client_user, name):
    assert logged_in(client_user).get(reverse(name)).status_code == 404
    assert Client().get(reverse(name)).status_code == 302


def test_a_coach_creates_a_tag_with_rules_from_the_form(coach):
    intro = session_type(coach, "Intro", minimum_notice_hours=12)
    archived = session_type(coach, "Old", is_active=False)
    page = logged_in(coach).get(reverse("client_tag_create"))
    assert page.status_code == 200
    rows = [row.prefix for row in page.context["rows"]]
    assert rows == ["rule-all", f"rule-{intro.pk}"]  # an archived type without a rule has no row
    assert archived.title not in page.content.decode()

    # The grey value is what applies when the box is blank: the type's, else the coach's.
    def placeholder(response, row, name):
        return response.context["rows"][row][name].field.widget.attrs.get("placeholder")

    assert placeholder(page, 1, "minimum_notice_hours") == 12
    assert placeholder(page, 0, "minimum_notice_hours") == coach.coach_profile.minimum_notice_hours
    assert placeholder(page, 1, "max_per_week") == coach.coach_profile.max_sessions_per_week
    assert 'placeholder="12"' in page.content.decode()
    response = logged_in(coach).post(
        reverse("client_tag_create"),
        tag_form(
            "VIP",
            rows=("all", intro.pk),
            all__approval="never",
            all__minimum_notice_hours=2,
            **{f"{intro.pk}__max_per_day": 1},
        ),
    )
    assert response.status_code == 303
    tag = ClientTag.objects.get(coach=coach)
    assert [(r.session_type_id, r.approval, r.minimum_notice_hours, r.max_per_day) for r in tags.rules_of(tag)] == [
        (None, "never", 2, None),
        (intro.pk, "", None, 1),
    ]
    # Once saved, a type's blank box follows the tag's rule for every type: that is its grey value.
    edit = logged_in(coach).get(reverse("client_tag_edit", args=[tag.pk]))
    assert placeholder(edit, 1, "minimum_notice_hours") == 2


def test_a_refused_rule_shows_beside_its_field(coach):
    intro = session_type(coach, "Intro")
    response = logged_in(coach).post(
        reverse("client_tag_create"),
        tag_form("VIP", rows=("all", intro.pk), all__approval="never", **{f"{intro.pk}__minimum_notice_hours": 9999}),
    )
    assert response.status_code == 400
    row = response.context["rows"][1]
    assert row.errors["minimum_notice_hours"] == ["Minimum notice (hours) must be between 0 and 720."]
    assert not ClientTag.objects.exists()
    # A name taken shows beside the name; a word where a number goes beside its box.
    tags.create_tag(actor=coach, coach=coach, name="VIP")
    response = logged_in(coach).post(reverse("client_tag_create"), tag_form(" vip ", all__max_per_day="two"))
    assert response.status_code == 400
    assert response.context["rows"][0].errors["max_per_day"] == ["Give a whole number, or leave it blank."]
    response = logged_in(coach).post(reverse("client_tag_create"), tag_form(" vip "))
    assert response.status_code == 400 and "already a tag named" in response.context["form"].errors["name"][0]


def test_every_box_out_of_range_is_named_at_once_in_the_summary(coach):
    intro = session_type(coach, "Intro")
    response = logged_in(coach).post(
        reverse("client_tag_create"),
        tag_form(
            "",
            rows=("all", intro.pk),
            all__booking_window_days=0,
            all__waitlist_priority=500,
            **{f"{intro.pk}__price_adjustment_percent": -150},
        ),
    )
    assert response.status_code == 400
    summary = response.content.decode().split('data-testid="error-summary"')[1].split("</div>")[0]
    for words in (
        "Name: Give the tag a name.",
        "Every session type · Booking window (days): Booking window (days) must be between 1 and 365.",
        "Every session type · Waitlist priority bonus: Waitlist priority bonus must be between 0 and 100.",
        "Intro · Price adjustment (%): Price adjustment (%) must be between -100 and 100.",
    ):
        assert words in summary
    assert f'href="#id_rule-{intro.pk}-price_adjustment_percent"' in summary
    assert not ClientTag.objects.exists()


def test_edit_keeps_the_rules_shown_and_replaces_them(coach, client_user):
    intro = session_type(coach, "Intro")
    tag = tags.create_tag(
        actor=coach, coach=coach, name="VIP", rules=[RuleSpec(session_type_id=intro.pk, approval="always")]
    )
    url = reverse("client_tag_edit", args=[tag.pk])
    page = logged_in(coach).get(url)
    assert page.status_code == 200
    assert page.context["rows"][1].initial["approval"] == "always"
    assert "every booking is a request" in page.content.decode()  # the folded row's summary
    response = logged_in(coach).post(
        url, tag_form("VIP client", priority="7", rows=("all", intro.pk), all__max_per_week=3)
    )
    assert response.status_code == 303
    tag.refresh_from_db()
    assert (tag.name, tag.priority) == ("VIP client", 7)
    assert [(r.session_type_id, r.max_per_week, r.approval) for r in tags.rules_of(tag)] == [(None, 3, "")]


def test_a_tag_page_you_may_see_but_not_change_is_a_403_and_one_you_may_not_see_a_404(coach, other_coach, staff):
    practice = tags.create_tag(actor=staff, coach=None, name="Practice")
    theirs = tags.create_tag(actor=other_coach, coach=other_coach, name="Theirs")
    for name in ("client_tag_edit", "client_tag_delete", "client_tag_clients"):
        assert logged_in(coach).get(reverse(name, args=[practice.pk])).status_code == 403
        assert logged_in(coach).get(reverse(name, args=[theirs.pk])).status_code == 404
        assert logged_in(coach).get(reverse(name, args=[10**6])).status_code == 404
        assert logged_in(staff).get(reverse(name, args=[theirs.pk])).status_code == 200
    assert logged_in(coach).post(reverse("client_tag_delete", args=[practice.pk])).status_code == 403
    assert ClientTag.objects.filter(pk=practice.pk).exists()


def test_delete_asks_first(coach, client_user):
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP", rules=[RuleSpec(approval="never")])
    tags.tag_client(actor=coach, tag=tag, client=client_user)
    url = reverse("client_tag_delete", args=[tag.pk])
    page = logged_in(coach).get(url)
    assert page.status_code == 200
    assert "1 client wears it" in page.content.decode() and "never needs approval" in page.content.decode()
    assert logged_in(coach).post(url).status_code == 303
    assert not ClientTag.objects.exists()


def test_staff_make_a_practice_tag_or_one_for_a_coach(staff, coach):
    intro = session_type(coach, "Intro")
    page = logged_in(staff).get(reverse("client_tag_create"))
    assert page.status_code == 200 and [row.prefix for row in page.context["rows"]] == ["rule-all", "rule-new"]
    # A rule for any coach's type through the "another session type" row.
    data = tag_form("Sliding scale", rows=("all", "new"), all__price_adjustment_percent=-20)
    data["rule-new-session_type"] = str(intro.pk)
    data["rule-new-max_per_week"] = "1"
    assert logged_in(staff).post(reverse("client_tag_create"), data).status_code == 303
    practice = ClientTag.objects.get(coach__isnull=True)
    assert [(r.session_type_id, r.price_adjustment_percent, r.max_per_week) for r in tags.rules_of(practice)] == [
        (None, -20, None),
        (intro.pk, None, 1),
    ]
    # For a coach: ?for=<coach> gives that coach's rows.
    url = f"{reverse('client_tag_create')}?for={coach.pk}"
    page = logged_in(staff).get(url)
    assert [row.prefix for row in page.context["rows"]] == ["rule-all", f"rule-{intro.pk}"]
    assert logged_in(staff).post(url, tag_form("VIP", rows=("all", intro.pk))).status_code == 303
    assert ClientTag.objects.get(name="VIP").coach == coach
    # A wrong ?for= falls back to the practice and says so.
    page = logged_in(staff).get(f"{reverse('client_tag_create')}?for=banana")
    assert page.status_code == 200 and "whole practice" in page.context["notice"]


def test_the_tag_clients_page_adds_and_removes(coach, client_user, stranger):
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    url = reverse("client_tag_clients", args=[tag.pk])
    page = logged_in(coach).get(url)
    assert [c.pk for c in page.context["candidates"]] == [client_user.pk]  # only the coach's clients
    response = logged_in(coach).post(url, {"client": client_user.pk, "action": "add"})
    assert response.status_code == 303
    assert tag.taggings.filter(client=client_user).exists()
    page = logged_in(coach).get(url)
    assert [c.pk for c in page.context["wearing"]] == [client_user.pk] and page.context["candidates"] == []
    # Someone not theirs: a 404 and the message on the page.
    refused = logged_in(coach).post(url, {"client": stranger.pk, "action": "add"})
    assert refused.status_code == 404 and "No client of yours" in refused.content.decode()
    assert logged_in(coach).post(url, {"client": "x", "action": "add"}).status_code == 400
    assert logged_in(coach).post(url, {"client": client_user.pk, "action": "remove"}).status_code == 303
    assert not tag.taggings.exists()


def test_staff_find_any_client_to_tag(staff, stranger, client_user):
    tag = tags.create_tag(actor=staff, coach=None, name="Sliding scale")
    url = reverse("client_tag_clients", args=[tag.pk])
    assert logged_in(staff).get(url).context["candidates"] == []
    found = logged_in(staff).get(url, {"q": "zed"})
    assert [c.pk for c in found.context["candidates"]] == [stranger.pk]
    assert logged_in(staff).get(url, {"q": "a\x00b"}).status_code == 200
    assert logged_in(staff).post(url, {"client": stranger.pk, "action": "add"}).status_code == 303
    assert stranger.tags.filter(pk=tag.pk).exists()


def test_the_coach_clients_page_shows_tags_as_pills_and_adds_and_removes_them(coach, staff, client_user):
    vip = tags.create_tag(actor=coach, coach=coach, name="VIP")
    new = tags.create_tag(actor=coach, coach=coach, name="New client")
    practice = tags.create_tag(actor=staff, coach=None, name="Sliding scale")
    tags.tag_client(actor=staff, tag=practice, client=client_user)
    tags.tag_client(actor=coach, tag=vip, client=client_user)
    page = logged_in(coach).get(reverse("connections"))
    html = page.content.decode()
    assert page.status_code == 200
    (row,) = page.context["as_coach"]
    assert [t.name for t in row.client_tags] == ["Sliding scale", "VIP"]
    assert [t.name for t in row.addable_tags] == ["New client"]
    assert "Take VIP off Nora Client" in html and "Take Sliding scale off" not in html
    back = reverse("connections")
    response = logged_in(coach).post(
        reverse("client_tag_assign"), {"tag": new.pk, "client": client_user.pk, "action": "add", "next": back}
    )
    assert response.status_code == 303 and response["Location"] == back
    assert client_user.tags.filter(pk=new.pk).exists()
    logged_in(coach).post(reverse("client_tag_assign"), {"tag": vip.pk, "client": client_user.pk, "action": "remove"})
    assert not client_user.tags.filter(pk=vip.pk).exists()
    # The practice tag: seen, not changed.
    refused = logged_in(coach).post(
        reverse("client_tag_assign"), {"tag": practice.pk, "client": client_user.pk, "action": "remove"}
    )
    assert refused.status_code == 403 and client_user.tags.filter(pk=practice.pk).exists()
    # Elsewhere than this site: back to the clients page.
    response = logged_in(coach).post(
        reverse("client_tag_assign"),
        {"tag": new.pk, "client": client_user.pk, "action": "remove", "next": "https://evil.example/"},
    )
    assert response["Location"] == back


def test_a_pending_request_has_no_tag_form(coach):
    ConnectionFactory(client=ClientFactory(name="Pat Pending"), coach=coach, status=ConnectionStatus.PENDING)
    tags.create_tag(actor=coach, coach=coach, name="VIP")
    html = logged_in(coach).get(reverse("connections")).content.decode()
    assert "Pat Pending" in html and 'data-testid="add-tag"' not in html


# --- API ------------------------------------------------------------------------------------


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(user)[1]}"}


def send(method: str, path: str, body=None, **headers):
    data = "" if body is None else json.dumps(body)
    return getattr(Client(), method)(f"/api/v1{path}", data, content_type="application/json", **headers)


def test_the_api_creates_reads_changes_and_deletes_a_tag_with_its_rules(coach):
    intro = session_type(coach, "Intro")
    auth = bearer(coach)
    created = send(
        "post",
        "/tags",
        {
            "name": " VIP ",
            "priority": 5,
            "rules": [{"approval": "never", "minimum_notice_hours": 2}, {"session_type": intro.pk, "max_per_day": 1}],
        },
        **auth,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["coach"], body["priority"], body["can_manage"], body["client_count"]) == (
        "VIP",
        coach.pk,
        5,
        True,
        0,
    )
    assert [(r["session_type"], r["summary"]) for r in body["rules"]] == [
        (None, "every type: never needs approval; notice 2 h"),
        (intro.pk, "Intro: at most 1 a day"),
    ]
    tag_id = body["id"]
    assert send("get", f"/tags/{tag_id}", **auth).json() == body
    assert [t["id"] for t in send("get", "/tags", **auth).json()] == [tag_id]
    # PATCH without rules keeps them; with rules replaces them all.
    renamed = send("patch", f"/tags/{tag_id}", {"name": "VIP client"}, **auth).json()
    assert renamed["name"] == "VIP client" and len(renamed["rules"]) == 2
    replaced = send("patch", f"/tags/{tag_id}", {"rules": [{"approval": "always"}]}, **auth).json()
    assert [(r["session_type"], r["approval"]) for r in replaced["rules"]] == [(None, "always")]
    assert send("delete", f"/tags/{tag_id}", **auth).status_code == 204
    assert send("get", f"/tags/{tag_id}", **auth).status_code == 404


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_the_api_refuses_with_the_field_named(coach, other_coach):
    auth = bearer(coach)
    intro, theirs = session_type(coach, "Intro"), session_type(other_coach, "Theirs")
    error = error_of(send("post", "/tags", {"name": "VIP", "rules": [{"max_per_day": 0}]}, **auth), 400)
    assert error["code"] == "invalid" and error["fields"][0]["field"] == "rules.0.max_per_day"
    error = error_of(
        send(
            "post",
            "/tags",
            {"name": "VIP", "rules": [{}, {"session_type": intro.pk, "max_per_day": 3, "max_per_week": 2}]},
            **auth,
        ),
        400,
    )
    assert error["fields"] == [
        {"field": "rules.1.max_per_week", "message": "The weekly limit cannot be lower than the daily limit."}
    ]
    error = error_of(
        send("post", "/tags", {"name": "VIP", "rules": [{"session_type": theirs.pk, "max_per_day": 1}]}, **auth), 400
    )
    assert error["code"] == "unknown_session_type" and error["fields"][0]["field"] == "rules.0.session_type"
    send("post", "/tags", {"name": "VIP"}, **auth)
    error = error_of(send("post", "/tags", {"name": "vip"}, **auth), 400)
    assert error["fields"][0]["field"] == "name"
    assert error_of(send("post", "/tags", {"name": "   "}, **auth), 400)["code"] == "invalid"
    assert error_of(send("post", "/tags", {"name": "X", "priority": True}, **auth), 400)["code"] == "invalid"
    assert (
        error_of(send("patch", f"/tags/{ClientTag.objects.get().pk}", {"name": None}, **auth), 400)["code"] == "invalid"
    )


def test_the_api_answers_404_for_what_you_may_not_see_and_403_for_what_you_may_not_change(
    coach, other_coach, staff, client_user
):
    practice = tags.create_tag(actor=staff, coach=None, name="Practice")
    theirs = tags.create_tag(actor=other_coach, coach=other_coach, name="Theirs")
    auth = bearer(coach)
    listed = send("get", "/tags", **auth).json()
    assert [(t["name"], t["can_manage"]) for t in listed] == [("Practice", False)]
    assert send("get", f"/tags/{practice.pk}", **auth).status_code == 200
    assert error_of(send("patch", f"/tags/{practice.pk}", {"name": "Mine"}, **auth), 403)["code"] == "forbidden"
    assert error_of(send("delete", f"/tags/{practice.pk}", **auth), 403)["code"] == "forbidden"
    assert error_of(send("put", f"/tags/{practice.pk}/clients/{client_user.pk}", **auth), 403)["code"] == "forbidden"
    assert error_of(send("get", f"/tags/{theirs.pk}", **auth), 404)["code"] == "not_found"
    assert error_of(send("delete", f"/tags/{theirs.pk}", **auth), 404)["code"] == "not_found"
    assert error_of(send("post", "/tags", {"name": "P", "coach": other_coach.pk}, **auth), 403)["code"] == "forbidden"
    assert error_of(send("get", f"/tags/{2**70}", **auth), 404)["code"] == "not_found"
    # A client sees no tags at all.
    assert send("get", "/tags", **bearer(client_user)).json() == []
    assert send("get", f"/tags/{practice.pk}", **bearer(client_user)).status_code == 404
    assert error_of(send("post", "/tags", {"name": "Mine"}, **bearer(client_user)), 403)["code"] == "forbidden"
    # Staff: a practice tag (no coach), or a coach's.
    made = send("post", "/tags", {"name": "For Marcus", "coach": other_coach.pk}, **bearer(staff))
    assert made.status_code == 201 and made.json()["coach"] == other_coach.pk
    assert send("post", "/tags", {"name": "Everyone"}, **bearer(staff)).json()["coach"] is None
    assert (
        error_of(send("post", "/tags", {"name": "X", "coach": client_user.pk}, **bearer(staff)), 404)["code"]
        == "not_found"
    )


def test_the_api_tags_and_untags_repeatably(coach, client_user, stranger):
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    auth = bearer(coach)
    path = f"/tags/{tag.pk}/clients/{client_user.pk}"
    first = send("put", path, **auth)
    assert first.status_code == 200
    assert (first.json()["tag"], first.json()["client"], first.json()["added_by"]) == (tag.pk, client_user.pk, coach.pk)
    assert send("put", path, **auth).json() == first.json()
    assert send("get", f"/tags/{tag.pk}", **auth).json()["client_count"] == 1
    assert send("delete", path, **auth).status_code == 204
    assert send("delete", path, **auth).status_code == 204
    assert not client_user.tags.exists()
    assert error_of(send("put", f"/tags/{tag.pk}/clients/{stranger.pk}", **auth), 404)["code"] == "not_found"
    assert error_of(send("put", f"/tags/{tag.pk}/clients/{2**70}", **auth), 404)["code"] == "not_found"


def test_a_repeated_idempotency_key_tags_once_and_answers_the_same(coach, client_user):
    tag = tags.create_tag(actor=coach, coach=coach, name="VIP")
    auth = {**bearer(coach), "HTTP_IDEMPOTENCY_KEY": "tag-once"}
    first = send("put", f"/tags/{tag.pk}/clients/{client_user.pk}", **auth)
    again = send("put", f"/tags/{tag.pk}/clients/{client_user.pk}", **auth)
    assert again.status_code == 200 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    created = send("post", "/tags", {"name": "New"}, **auth)
    assert error_of(created, 422)["code"] == "idempotency_key_reused"


TAG_OPERATIONS = {
    "availability_tag_api_list_tags": {200, 401},
    "availability_tag_api_create_tag": {201, 400, 401, 403, 404, 409, 413, 422},
    "availability_tag_api_get_tag": {200, 400, 401, 404},
    "availability_tag_api_patch_tag": {200, 400, 401, 403, 404, 409, 413, 422},
    "availability_tag_api_delete_tag": {204, 400, 401, 403, 404, 409, 422},
    "availability_tag_api_put_tagging": {200, 400, 401, 403, 404, 409, 422},
    "availability_tag_api_delete_tagging": {204, 400, 401, 403, 404, 409, 422},
}


def test_the_schema_documents_what_each_tag_operation_answers():
    schema = Client().get("/api/v1/openapi.json").json()
    found = {
        op["operationId"]: {int(status) for status in op["responses"]}
        for methods in schema["paths"].values()
        for op in methods.values()
        if op["operationId"].startswith("availability_tag_api")
    }
    assert found == TAG_OPERATIONS


@pytest.mark.django_db
def test_a_rule_naming_a_session_type_id_beyond_any_database_integer_is_refused_not_a_crash():
    from accounts.tests.factories import CoachFactory
    from availability import tags as tag_services

    coach = CoachFactory()
    tag = tag_services.create_tag(actor=coach, coach=coach, name="Huge")
    with pytest.raises(DomainError) as refused:
        tag_services.check_rules(tag, [tag_services.RuleSpec(session_type_id=2**70)])
    assert refused.value.code == "unknown_session_type"
