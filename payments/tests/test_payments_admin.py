"""The payments back office: every page opens for an admin and for staff, records are
read-only, packages are saved through the package service (a refusal shows on the form),
and credits are given on a small form through the ledger service."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings.tests.factories import SessionTypeFactory
from payments import credits
from payments.models import Backend, CreditEntry, CreditKind, GatewayEvent, Package, Payment, Refund

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def admin_url(model: type[Model], page: str = "changelist", *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.fixture
def records(coach_user):
    client = ClientFactory(email="paula@example.com", name="Paula Payer")
    package = Package.objects.create(coach=coach_user, title="Ten sessions", credits=10, price_minor=45000)
    payment = Payment.objects.create(
        client=client, package=package, backend=Backend.LOCAL, amount_minor=45000, currency="EUR", checkout_id="cs_1"
    )
    refund = Refund.objects.create(payment=payment, amount_minor=1000, reason="Goodwill")
    event = GatewayEvent.objects.create(backend=Backend.LOCAL, event_id="evt_1", type="checkout.session.completed")
    grant = credits.grant(client, credits=10, package=package)
    credits.spend(client)
    return {Payment: payment, Refund: refund, GatewayEvent: event, Package: package, CreditEntry: grant}


MODELS = [Payment, Refund, GatewayEvent, Package, CreditEntry]


def test_every_payments_model_is_registered():
    for model in MODELS:
        assert admin.site.is_registered(model), model


@pytest.mark.parametrize("role", ["admin", "staff"])
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.model_name)
def test_pages_open_for_admin_and_staff(as_role, records, role, model):
    http = as_role(role)
    listing = http.get(admin_url(model), {"q": "Paula" if model in (Payment, CreditEntry) else ""})
    assert listing.status_code == 200
    assert http.get(admin_url(model, "change", records[model].pk)).status_code == 200


@pytest.mark.parametrize("role", ["client", "coach"])
def test_clients_and_coaches_do_not_get_in(as_role, records, role):
    response = as_role(role).get(admin_url(CreditEntry))
    assert response.status_code == 302
    assert as_role(role).get(reverse("admin:payments_creditentry_grant")).status_code == 302


@pytest.mark.parametrize("role", ["admin", "staff"])
@pytest.mark.parametrize("model", [Payment, Refund, GatewayEvent, CreditEntry], ids=lambda m: m._meta.model_name)
def test_records_are_read_only(as_role, records, role, model):
    http = as_role(role)
    obj = records[model]
    assert http.get(admin_url(model, "add")).status_code == 403
    assert http.get(admin_url(model, "delete", obj.pk)).status_code == 403
    page = http.get(admin_url(model, "change", obj.pk))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    before = model.objects.count()
    http.post(admin_url(model, "change", obj.pk), {})
    assert model.objects.count() == before


def test_staff_make_a_package_through_the_service(as_role, coach_user):
    mine = SessionTypeFactory(coach=coach_user)
    response = as_role("staff").post(
        admin_url(Package, "add"),
        {
            "coach": coach_user.pk,
            "title": "Five",
            "credits": 5,
            "price_minor": 20000,
            "currency": "eur",
            "validity_days": 90,
            "is_active": "on",
            "session_types": [mine.pk],
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    package = Package.objects.get(title="Five")
    assert (package.coach, package.currency, package.validity_days) == (coach_user, "EUR", 90)
    assert list(package.session_types.all()) == [mine]


def test_a_package_with_another_coachs_type_is_refused_on_the_form(as_role, coach_user):
    theirs = SessionTypeFactory()
    response = as_role("staff").post(
        admin_url(Package, "add"),
        {
            "coach": coach_user.pk,
            "title": "Five",
            "credits": 5,
            "price_minor": 20000,
            "currency": "EUR",
            "validity_days": 90,
            "session_types": [theirs.pk],
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["session_types"] == [f"“{theirs.title}” is not one of this coach's session types."]
    assert not Package.objects.exists()


def test_a_bad_currency_is_refused_on_the_form(as_role, records):
    package = records[Package]
    response = as_role("admin").post(
        admin_url(Package, "change", package.pk),
        {"title": "Ten sessions", "credits": 10, "price_minor": 45000, "currency": "E1", "validity_days": 365},
    )
    assert response.status_code == 200
    assert "3-letter" in " ".join(response.context["adminform"].form.errors["currency"])
    package.refresh_from_db()
    assert package.currency == "EUR"


def test_the_ledger_links_to_the_grant_form_for_staff(as_role, records):
    page = as_role("staff").get(admin_url(CreditEntry))
    assert reverse("admin:payments_creditentry_grant").encode() in page.content


def test_staff_grant_credits_on_the_form(as_role, records, staff_user):
    client = ClientFactory(email="gina@example.com")
    http = as_role("staff")
    assert http.get(reverse("admin:payments_creditentry_grant")).status_code == 200
    response = http.post(
        reverse("admin:payments_creditentry_grant"),
        {"client": client.pk, "credits": 3, "note": "Goodwill", "expires_at": ""},
    )
    assert response.status_code == 302
    entry = CreditEntry.objects.get(client=client)
    assert (entry.kind, entry.amount, entry.created_by, entry.note) == (CreditKind.GRANT, 3, staff_user, "Goodwill")
    assert credits.balance(client) == 3


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"credits": 0}, "credits"),
        ({"credits": 1001}, "credits"),
        ({"credits": ""}, "credits"),
        ({"client": ""}, "client"),
    ],
)
def test_a_bad_grant_is_refused_on_the_form(as_role, records, data, field):
    client = ClientFactory()
    response = as_role("staff").post(
        reverse("admin:payments_creditentry_grant"), {"client": client.pk, "credits": 2, **data}
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not CreditEntry.objects.filter(client=client).exists()


def _ledger_and_payments(count: int, coach) -> None:
    package = Package.objects.create(coach=coach, title=f"Pack {count}", credits=5, price_minor=100)
    for _ in range(count):
        client = ClientFactory()
        Payment.objects.create(client=client, package=package, backend=Backend.LOCAL, amount_minor=100, currency="EUR")
        credits.grant(client, credits=2, package=package)
        credits.give_back(credits.spend(client))


@pytest.mark.parametrize("model", [Payment, CreditEntry, Package], ids=lambda m: m._meta.model_name)
def test_changelist_queries_do_not_grow_with_rows(as_role, coach_user, model):
    http = as_role("staff")

    def queries_for_list() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = http.get(admin_url(model))
        assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    _ledger_and_payments(2, coach_user)
    few, few_rows = queries_for_list()
    _ledger_and_payments(12, coach_user)
    many, many_rows = queries_for_list()
    assert many_rows > few_rows
    assert many == few
