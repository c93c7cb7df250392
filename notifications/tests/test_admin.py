"""The notifications back office: message templates checked against a sample booking and
previewed per channel, read-only records of notifications, deliveries, reminders and
settings, sending a failed delivery again, and lists whose queries don't grow with rows."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine
from django.contrib import admin
from django.db.models import Model
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications import messages
from notifications.admin_forms import PREVIEW, sms_size
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Kind,
    MessageTemplate,
    Notification,
    NotificationSettings,
    Reminder,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def admin_url(model: type[Model], page: str = "changelist", *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def make_records(index: int = 0) -> dict:
    """A booking (with what its services wrote), and beside it rows of every kind to look
    at: a notification with an email that failed, an SMS that went and the in-app copy, a
    reminder, a person's settings."""
    coach = open_coach()
    client = ClientFactory(email=f"cleo{index}@example.com", name=f"Cleo {index}", phone="+33612345678")
    booking = services.book_slot(
        client=client, session_type=SessionTypeFactory(coach=coach), start=START + dt.timedelta(hours=index % 8)
    )
    note = Notification.objects.create(
        recipient=client, kind=Kind.CONFIRMED, booking=booking, title="Confirmed: Consultation", body="See you."
    )
    failed = Delivery.objects.create(
        notification=note,
        channel=Channel.EMAIL,
        status=DeliveryStatus.FAILED,
        to=client.email,
        attempts=5,
        error="Email not sent: [Errno 111] Connection refused " + "x" * 200,
    )
    sent = Delivery.objects.create(
        notification=note,
        channel=Channel.SMS,
        status=DeliveryStatus.SENT,
        to=client.phone,
        attempts=1,
        provider_id=f"SM{index:032d}",
        provider_status="delivered",
        sent_at=NOW,
    )
    in_app = Delivery.objects.create(notification=note, channel=Channel.IN_APP, status=DeliveryStatus.SENT, sent_at=NOW)
    reminder = Reminder.objects.create(
        booking=booking,
        recipient=client,
        kind=Kind.SESSION_REMINDER,
        due_at=booking.session.start - dt.timedelta(hours=3),  # beside the ones the booking planned
        window=dt.timedelta(minutes=30),
    )
    choices = NotificationSettings.objects.create(
        user=client, channels={Kind.CONFIRMED: [Channel.EMAIL, Channel.SMS]}, reminder_minutes=[1440, 30]
    )
    return {
        "booking": booking,
        "client": client,
        Notification: note,
        Delivery: failed,
        "sent": sent,
        "in_app": in_app,
        Reminder: reminder,
        NotificationSettings: choices,
    }


@pytest.fixture
def records():
    return make_records()


@pytest.fixture
def email_template(staff_user):
    return MessageTemplate.objects.create(
        kind=Kind.CONFIRMED,
        channel=Channel.EMAIL,
        subject="All set: {{ session_title }} with {{ coach_name }}",
        body="Hello {{ recipient_name }},\n\nSee you {{ when }} with {{ coach_name }}.",
        html_body="<p>Hello {{ recipient_name }}, see you with <strong>{{ coach_name }}</strong>.</p>",
        updated_by=staff_user,
    )


def form_data(template: MessageTemplate | None = None, **changes: object) -> dict:
    data = {
        "kind": Kind.CONFIRMED,
        "channel": Channel.EMAIL,
        "is_active": "on",
        "subject": "Confirmed: {{ session_title }}",
        "body": "Hello {{ recipient_name }}, see you {{ when }}.",
        "html_body": "",
    }
    if template is not None:
        data.update(
            kind=template.kind,
            channel=template.channel,
            subject=template.subject,
            body=template.body,
            html_body=template.html_body,
        )
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def page_text(response) -> str:
    return html.unescape(response.content.decode())


# --- every page opens ---------------------------------------------------------------------

PAGES = [
    pytest.param(Notification, "cleo0@example.com", "kind__exact=confirmed", id="notification"),
    pytest.param(Delivery, "cleo0@example.com", "status__exact=failed", id="delivery"),
    pytest.param(Reminder, "cleo0@example.com", "kind__exact=session_reminder", id="reminder"),
    pytest.param(NotificationSettings, "cleo0@example.com", "", id="notificationsettings"),
    pytest.param(MessageTemplate, "All set", "channel__exact=email", id="messagetemplate"),
]


def test_every_notifications_model_but_the_feeds_is_registered():
    from notifications.models import CalendarFeed

    for param in PAGES:
        assert param.values[0] in admin.site._registry
    assert CalendarFeed not in admin.site._registry  # its secret stays out of the back office


@pytest.mark.parametrize("role", ["staff", "admin"])
@pytest.mark.parametrize(("model", "search", "filter_query"), PAGES)
def test_lists_search_filters_and_change_pages_open(
    as_role, records, email_template, role, model, search, filter_query
):
    http = as_role(role)
    obj = email_template if model is MessageTemplate else records[model]

    for response in (
        http.get(admin_url(model)),
        http.get(admin_url(model), {"q": search}),
        http.get(f"{admin_url(model)}?{filter_query}"),
    ):
        assert response.status_code == 200
        assert obj in response.context["cl"].result_list
    assert list(http.get(admin_url(model), {"q": "no-such-thing-zzz"}).context["cl"].result_list) == []
    # Each row's link to its page is a plain link, not a link around another link.
    row_heads = re.findall(r'<th class="field-[^"]*">(.*?)</th>', response.content.decode(), re.S)
    assert row_heads and all(head.count("<a ") == 1 for head in row_heads)
    page = http.get(admin_url(model, "change", obj.pk))
    assert page.status_code == 200
    assert page.context["original"] == obj


@pytest.mark.parametrize("model", [Notification, Delivery, Reminder, NotificationSettings])
def test_records_are_read_only(as_role, records, model):
    http = as_role("admin")
    obj = records[model]

    assert http.get(admin_url(model, "add")).status_code == 403
    assert http.get(admin_url(model, "delete", obj.pk)).status_code == 403
    page = http.get(admin_url(model, "change", obj.pk))
    assert page.context["adminform"].form.fields == {}


@pytest.mark.parametrize("role", [None, "client", "coach"])
def test_people_outside_the_back_office_never_see_it(as_role, records, email_template, role):
    http = as_role(role)

    for url in (admin_url(MessageTemplate, "change", email_template.pk), admin_url(Delivery)):
        response = http.get(url)
        if role is None:
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))
        else:
            assert http.get(url, follow=True).status_code == 404
    refused = http.post(admin_url(MessageTemplate, "change", email_template.pk), form_data(body="Hacked"))
    assert refused.status_code in (302, 404)
    assert MessageTemplate.objects.get(pk=email_template.pk).body == email_template.body


def test_delivery_search_by_booking_reference_and_provider_id(as_role, records):
    other = make_records(1)
    http = as_role("staff")

    def found(term: str) -> set:
        return set(http.get(admin_url(Delivery), {"q": term}).context["cl"].result_list)

    by_reference = found(records["booking"].reference)
    assert {records[Delivery], records["sent"], records["in_app"]} <= by_reference
    assert {delivery.notification.booking for delivery in by_reference} == {records["booking"]}
    assert found(other["sent"].provider_id) == {other["sent"]}


def test_delivery_list_shows_the_error_snippet_and_recipient(as_role, records):
    content = page_text(as_role("staff").get(admin_url(Delivery)))

    assert "cleo0@example.com" in content or "Cleo 0" in content
    assert "Email not sent: [Errno 111] Connection refused" in content
    assert "x" * 200 not in content.split('title="')[0]  # the list shows a snippet…
    assert "x" * 200 in content  # …and the whole error on hover


def test_notification_page_shows_its_deliveries_read_only(as_role, records):
    note = records[Notification]

    response = as_role("staff").get(admin_url(Notification, "change", note.pk))

    (inline,) = response.context["inline_admin_formsets"]
    assert {form.original for form in inline} == {records[Delivery], records["sent"], records["in_app"]}
    assert not inline.has_add_permission and not inline.has_change_permission


def test_unread_filter(as_role, records):
    note = records[Notification]
    http = as_role("staff")

    Notification.objects.exclude(pk=note.pk).update(read_at=NOW)

    assert list(http.get(f"{admin_url(Notification)}?read=no").context["cl"].result_list) == [note]
    assert note not in http.get(f"{admin_url(Notification)}?read=yes").context["cl"].result_list


def test_settings_are_shown_in_words(as_role, records):
    content = page_text(as_role("staff").get(admin_url(NotificationSettings)))

    assert "Booking confirmed: Email, SMS" in content
    assert "1 d before, 30 min before" in content


# --- sending again -----------------------------------------------------------------------------


def run_action(http, deliveries: list[Delivery]):
    return http.post(
        admin_url(Delivery),
        {"action": "send_again", "_selected_action": [str(d.pk) for d in deliveries], "index": "0"},
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_send_again_requeues_a_failed_delivery(as_role, records, frozen, role):
    failed = records[Delivery]
    frozen.move_to(NOW + dt.timedelta(hours=3))

    response = run_action(as_role(role), [failed])

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.QUEUED
    assert failed.next_attempt_at == NOW + dt.timedelta(hours=3)
    assert "1 delivery(ies) queued again; they go out within a minute." in messages_of(response)


def test_send_again_refuses_a_sent_one(as_role, records):
    sent, failed = records["sent"], records[Delivery]

    response = run_action(as_role("staff"), [sent, failed])

    sent.refresh_from_db()
    assert (sent.status, sent.next_attempt_at) == (DeliveryStatus.SENT, None)
    assert Delivery.objects.get(pk=failed.pk).status == DeliveryStatus.QUEUED
    texts = messages_of(response)
    assert any("already sent, left alone" in text for text in texts)
    only_sent = run_action(as_role("staff"), [sent])
    assert not any("queued again" in text for text in messages_of(only_sent))
    assert Delivery.objects.get(pk=sent.pk).status == DeliveryStatus.SENT


def test_send_again_leaves_one_being_sent_alone(as_role, records):
    failed = records[Delivery]
    Delivery.objects.filter(pk=failed.pk).update(status=DeliveryStatus.SENDING, claimed_by="w-1")

    response = run_action(as_role("staff"), [failed])

    failed.refresh_from_db()
    assert (failed.status, failed.claimed_by) == (DeliveryStatus.SENDING, "w-1")
    assert "1 delivery(ies) being sent right now, left alone." in messages_of(response)


def test_a_requeued_delivery_is_sent_by_the_next_run(as_role, records, mailoutbox):
    from notifications import delivery

    run_action(as_role("staff"), [records[Delivery]])

    assert delivery.send_deliveries([records[Delivery].pk]) == 1
    assert [mail.to for mail in mailoutbox] == [["cleo0@example.com"]]
    assert Delivery.objects.get(pk=records[Delivery].pk).status == DeliveryStatus.SENT


# --- templates: the page ---------------------------------------------------------------------


def test_template_page_lists_the_variables_and_previews_with_the_sample_booking(as_role, email_template):
    response = as_role("staff").get(admin_url(MessageTemplate, "change", email_template.pk))

    assert response.status_code == 200
    content = page_text(response)
    for name, description in messages.VARIABLES.items():
        assert f"{{{{ {name} }}}}" in content
        assert description in content
    preview = response.context["preview"]
    assert preview.rendered.subject == "All set: Career consultation with Nora Haddad"
    assert "All set: Career consultation with Nora Haddad" in content
    assert "See you Wed 2 Dec 2026, 10:00 (Europe/Paris) with Nora Haddad." in content
    # The built-in wording for the same kind and channel, to start from.
    assert messages.BUILTIN[Kind.CONFIRMED]["subject"] in content


def test_email_preview_shows_the_html_in_a_sandboxed_frame(as_role, email_template):
    response = as_role("staff").get(admin_url(MessageTemplate, "change", email_template.pk))

    raw = response.content.decode()
    assert '<iframe class="template-preview-html"' in raw
    assert 'sandbox=""' in raw
    srcdoc = raw.split('srcdoc="', 1)[1].split('"', 1)[0]
    assert "<" not in srcdoc  # escaped inside the attribute…
    document = html.unescape(srcdoc)  # …and the email once the browser reads it
    assert document.startswith("<!doctype html>")
    assert "<p>Hello Cleo Martin, see you with <strong>Nora Haddad</strong>.</p>" in document


def test_sms_preview_shows_the_length_and_the_segment_count(as_role, staff_user):
    long_text = "Reminder: {{ session_title }} {{ lead }}, {{ when }}. " + "Bring your notes please. " * 5
    template = MessageTemplate.objects.create(kind=Kind.SESSION_REMINDER, channel=Channel.SMS, body=long_text)

    response = as_role("staff").get(admin_url(MessageTemplate, "change", template.pk))

    preview = response.context["preview"]
    assert preview.sms.encoding == "GSM-7"
    assert preview.sms.characters == len(preview.rendered.text) > 160
    assert preview.sms.segments == 2
    assert f"{preview.sms.characters} characters · GSM-7 ·" in page_text(response)
    assert "2 SMS segments" in page_text(response)


def test_sms_preview_names_the_characters_that_make_it_ucs2(as_role):
    template = MessageTemplate.objects.create(
        kind=Kind.INFORMATION_REQUESTED, channel=Channel.SMS, body="{{ coach_name }} asks: “{{ question }}”"
    )

    response = as_role("staff").get(admin_url(MessageTemplate, "change", template.pk))

    assert response.context["preview"].sms.encoding == "UCS-2"
    assert response.context["preview"].sms.not_gsm == "“”"
    assert "<strong>1 SMS segment</strong>" in page_text(response)
    assert "because of: <code>“”</code>" in page_text(response)


def test_in_app_preview_shows_title_and_text(as_role):
    template = MessageTemplate.objects.create(
        kind=Kind.CANCELLED,
        channel=Channel.IN_APP,
        subject="Off: {{ session_title }}",
        body="{{ coach_name }} cancelled.{% if reason %} {{ reason }}{% endif %}",
    )

    response = as_role("staff").get(admin_url(MessageTemplate, "change", template.pk))

    assert 'data-testid="preview-in-app"' in response.content.decode()
    assert "Off: Career consultation" in page_text(response)
    assert "Nora Haddad cancelled. I'm away that week." in page_text(response)


def test_a_saved_template_that_no_longer_renders_shows_why_instead_of_failing(as_role):
    template = MessageTemplate.objects.create(kind=Kind.CONFIRMED, channel=Channel.SMS, body="{{ when|shout }}")

    response = as_role("staff").get(admin_url(MessageTemplate, "change", template.pk))

    assert response.status_code == 200
    assert "This template doesn't render: Invalid filter: 'shout'" in page_text(response)


def test_the_list_shows_which_kinds_use_a_template(as_role, email_template):
    response = as_role("staff").get(admin_url(MessageTemplate))

    coverage = {row["kind"]: row["cells"] for row in response.context["coverage"]}
    confirmed = {cell["channel"]: cell for cell in coverage["Booking confirmed"]}
    assert confirmed["Email"]["state"] == "custom"
    assert confirmed["Email"]["url"] == admin_url(MessageTemplate, "change", email_template.pk)
    assert confirmed["SMS"]["state"] == "builtin"
    assert confirmed["SMS"]["url"] == admin_url(MessageTemplate, "add") + "?kind=confirmed&channel=sms"
    assert len(coverage) == len(Kind) and all(len(cells) == len(Channel) for cells in coverage.values())


# --- templates: starting, previewing and saving -----------------------------------------------


def test_a_new_template_can_start_from_the_built_in_wording(as_role):
    response = as_role("staff").get(admin_url(MessageTemplate, "add"), {"kind": "confirmed", "channel": "sms"})

    form = response.context["adminform"].form
    assert form.initial["body"] == messages.BUILTIN[Kind.CONFIRMED]["short"]
    assert form.initial["subject"] == ""  # an SMS has no subject
    assert response.context["preview"].rendered.text == "Confirmed: Career consultation, Wed 2 Dec 2026, 10:00 " + (
        "(Europe/Paris). BK-2026-000042"
    )
    email = as_role("staff").get(admin_url(MessageTemplate, "add"), {"kind": "confirmed", "channel": "email"})
    assert email.context["adminform"].form.initial["subject"] == messages.BUILTIN[Kind.CONFIRMED]["subject"]
    assert email.context["adminform"].form.initial["body"] == messages.BUILTIN[Kind.CONFIRMED]["text"]


def test_an_unknown_kind_in_the_address_is_ignored(as_role):
    response = as_role("staff").get(admin_url(MessageTemplate, "add"), {"kind": "nonsense", "channel": "fax"})

    assert response.status_code == 200
    assert response.context["preview"] is None
    assert response.context["builtin"] is None


def test_preview_shows_unsaved_edits_and_saves_nothing(as_role, email_template):
    http = as_role("staff")
    edits = form_data(email_template, subject="Edited: {{ coach_name }}", **{PREVIEW: "Preview"})

    response = http.post(admin_url(MessageTemplate, "change", email_template.pk), edits)

    assert response.status_code == 200
    assert response.context["preview"].rendered.subject == "Edited: Nora Haddad"
    assert not response.context["errors"]
    assert "Please correct" not in response.content.decode()
    assert MessageTemplate.objects.get(pk=email_template.pk).subject == email_template.subject
    # On the add page too: nothing is created.
    added = http.post(admin_url(MessageTemplate, "add"), form_data(channel="in_app", **{PREVIEW: "Preview"}))
    assert added.status_code == 200
    assert added.context["preview"].rendered.subject == "Confirmed: Career consultation"
    assert MessageTemplate.objects.count() == 1


def test_saving_records_who_changed_it(as_role, email_template, admin_user):
    response = as_role("admin").post(
        admin_url(MessageTemplate, "change", email_template.pk), form_data(email_template, body="See you {{ when }}.")
    )

    assert response.status_code == 302
    email_template.refresh_from_db()
    assert email_template.body == "See you {{ when }}."
    assert email_template.updated_by == admin_user


def test_a_new_template_is_saved_and_used(as_role, staff_user):
    response = as_role("staff").post(admin_url(MessageTemplate, "add"), form_data(channel="sms", subject=""))

    assert response.status_code == 302
    template = MessageTemplate.objects.get()
    assert (template.kind, template.channel, template.updated_by) == (Kind.CONFIRMED, Channel.SMS, staff_user)
    rendered = messages.render(Kind.CONFIRMED, Channel.SMS, messages.sample_context(), custom=template)
    assert rendered.text == "Hello Cleo Martin, see you Wed 2 Dec 2026, 10:00 (Europe/Paris)."


BROKEN = [
    pytest.param(
        {"body": "Hello {{ coach_name|shout }}"},
        "body",
        "The body doesn't render: Invalid filter: 'shout'",
        id="filter",
    ),
    pytest.param(
        {"subject": "{% if reason %}Why"},
        "subject",
        "The subject doesn't render: Unclosed tag on line 1: 'if'. Looking for one of: elif, else, endif.",
        id="unclosed",
    ),
    pytest.param(
        {"html_body": "<p>{% include 'base.html' %}</p>"},
        "html_body",
        "The HTML body doesn't render:",
        id="include",
    ),
    pytest.param(
        {"body": "Hello {{ coach_nme }}"},
        "body",
        "The body uses {{ coach_nme }}, which is not among the variables listed.",
        id="misspelt-variable",
    ),
    pytest.param(
        {"body": "{% if reason == 'never' %}Hello{% endif %}"},
        "body",
        "The body is empty with the sample booking.",
        id="empty",
    ),
    pytest.param({"subject": ""}, "subject", "An email needs a subject.", id="email-subject"),
    pytest.param({"channel": "in_app", "subject": " "}, "subject", "An in-app message needs a title.", id="title"),
    pytest.param({"channel": "sms"}, "subject", "An SMS has no subject; leave it empty.", id="sms-subject"),
    pytest.param(
        {"channel": "in_app", "html_body": "<p>Hi</p>"},
        "html_body",
        "Only emails have an HTML body; SMS and in-app messages are plain text.",
        id="html-not-email",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), BROKEN)
def test_a_template_that_would_fail_is_refused_with_the_reason(as_role, email_template, changes, field, message):
    http = as_role("staff")

    response = http.post(admin_url(MessageTemplate, "change", email_template.pk), form_data(email_template, **changes))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors[field]
    assert any(error.startswith(message) for error in errors), errors
    assert message in page_text(response)
    assert "Fix the errors above to see the preview." in page_text(response)
    assert MessageTemplate.objects.get(pk=email_template.pk).body == email_template.body
    # "Preview" reports the same problem and doesn't save either.
    previewed = http.post(
        admin_url(MessageTemplate, "change", email_template.pk),
        form_data(email_template, **changes, **{PREVIEW: "Preview"}),
    )
    assert any(error.startswith(message) for error in previewed.context["adminform"].form.errors[field])


def test_a_second_template_for_the_same_kind_and_channel_points_to_the_first(as_role, email_template):
    response = as_role("staff").post(admin_url(MessageTemplate, "add"), form_data())

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.non_field_errors()
    assert error == (
        "There is already a template for “Booking confirmed · Email”: "
        f'<a href="{admin_url(MessageTemplate, "change", email_template.pk)}">change that one</a>.'
    )
    assert f'<a href="{admin_url(MessageTemplate, "change", email_template.pk)}">change that one</a>' in (
        response.content.decode()
    )
    assert MessageTemplate.objects.count() == 1


def test_unticking_in_use_goes_back_to_the_built_in_wording(as_role, email_template):
    response = as_role("staff").post(
        admin_url(MessageTemplate, "change", email_template.pk), form_data(email_template, is_active=None)
    )

    assert response.status_code == 302
    email_template.refresh_from_db()
    assert not email_template.is_active
    rendered = messages.render(Kind.CONFIRMED, Channel.EMAIL, messages.sample_context(), custom=email_template)
    assert rendered.subject == "Confirmed: Career consultation with Nora Haddad"  # the built-in subject
    page = as_role("staff").get(admin_url(MessageTemplate, "change", email_template.pk))
    assert "Not in use: messages use the built-in wording" in page_text(page)


# --- SMS length -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments", "per_segment"),
    [
        ("", "GSM-7", 0, 0, 160),
        ("a" * 160, "GSM-7", 160, 1, 160),
        ("a" * 161, "GSM-7", 161, 2, 153),
        ("a" * 306, "GSM-7", 306, 2, 153),
        ("a" * 307, "GSM-7", 307, 3, 153),
        ("é" * 160, "GSM-7", 160, 1, 160),  # in the GSM set
        ("€" * 80, "GSM-7", 160, 1, 160),  # the extension table takes two septets each
        ("€" * 81, "GSM-7", 162, 2, 153),
        ("“" * 70, "UCS-2", 70, 1, 70),
        ("a" * 70 + "–", "UCS-2", 71, 2, 67),
        ("a" * 134 + "–", "UCS-2", 135, 3, 67),
        ("😀" * 35, "UCS-2", 70, 1, 70),  # outside the BMP: two code units each
        ("😀" * 36, "UCS-2", 72, 2, 67),
    ],
)
def test_sms_size(text, encoding, units, segments, per_segment):
    size = sms_size(text)

    assert (size.encoding, size.units, size.segments, size.per_segment) == (encoding, units, segments, per_segment)


# --- query counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [Notification, Delivery, Reminder, NotificationSettings, MessageTemplate])
def test_lists_cost_a_fixed_number_of_queries(as_role, django_assert_max_num_queries, model, staff_user):
    for index in range(6):
        make_records(index)
    for kind in [Kind.CONFIRMED, Kind.CANCELLED, Kind.DECLINED, Kind.RESCHEDULED, Kind.SESSION_REMINDER]:
        for channel in (Channel.EMAIL, Channel.IN_APP):
            MessageTemplate.objects.create(
                kind=kind, channel=channel, subject="{{ session_title }}", body="{{ when }}", updated_by=staff_user
            )
    http = as_role("staff")
    http.get(admin_url(model))  # the session and permissions are cached from here on

    with django_assert_max_num_queries(9):  # session, user, count, rows…: none per row
        response = http.get(admin_url(model))

    assert len(response.context["cl"].result_list) >= 6


def test_a_delivery_possibly_sent_twice_is_shown_so_in_the_list_and_on_its_page(as_role, records):
    marked = records["sent"]
    Delivery.objects.filter(pk=marked.pk).update(
        possibly_duplicated=True, call_started_at=marked.sent_at, claimed_at=marked.sent_at, claimed_by="w-1"
    )
    http = as_role("staff")

    listed = http.get(admin_url(Delivery), {"possibly_duplicated__exact": "1"})
    assert list(listed.context["cl"].result_list) == [marked]
    assert "possibly sent twice" in page_text(listed).lower()
    page = page_text(http.get(admin_url(Delivery, "change", marked.pk)))
    assert "Possibly sent twice" in page and "Provider call started" in page and "w-1" in page
    assert '<input type="checkbox" name="possibly_duplicated"' not in page  # read-only
