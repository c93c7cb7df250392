"""The words of payment messages that this app can work out from a booking alone: a
receipt's amount, balance and refund policy, read from the booking (its price, deposit,
currency and late-cancellation share) and the change's event — never from the payments
app, which sits above this one and fills in what only it knows (``payments.notify``)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext, ngettext

from config.money import display, to_minor
from notifications import messages


def amount_text(amount, currency: str) -> str:
    """A price in major units (a Decimal) as people read it: “60.00 EUR”."""
    return display(to_minor(amount, currency), currency)


def _notice_text(notice: dt.timedelta) -> str:
    minutes = round(notice.total_seconds() / 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}
    return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}


def refund_policy(booking, *, with_credit: bool = False) -> str:
    """What comes back if the client cancels: in full (or the credit) within the notice,
    the share the booking promised (``late_refund_percent``) after it."""
    from availability.rules import rules_for

    session = booking.session
    notice = rules_for(session.coach.coach_profile, session.session_type).cancellation_notice
    if notice <= dt.timedelta(0):
        if with_credit:
            return gettext("Cancel before the session and the credit comes back.")
        return gettext("Cancel before the session for a full refund.")
    hours = _notice_text(notice)
    if with_credit:
        return gettext("Cancel at least %(notice)s before the session and the credit comes back.") % {"notice": hours}
    percent = booking.late_refund_percent or 0
    if percent >= 100:
        return gettext("Cancel before the session for a full refund.")
    if percent > 0:
        return gettext(
            "Cancel at least %(notice)s before the session for a full refund; later, %(percent)s%% is refunded."
        ) % {"notice": hours, "percent": percent}
    return gettext("Cancel at least %(notice)s before the session for a full refund; later, nothing is refunded.") % {
        "notice": hours
    }


def balance_extra(booking, person) -> dict[str, str]:
    """With a deposit: the balance left after it and when it is due (in ``person``'s zone)."""
    if not booking.deposit or booking.deposit <= 0 or booking.price <= booking.deposit:
        return {}
    extra = {"balance": amount_text(booking.price - booking.deposit, booking.currency)}
    if booking.balance_due_at is not None:
        extra["balance_due"] = messages.local_when(booking.balance_due_at, person.timezone)
    return extra


def receipt_extra(booking, event, person) -> dict[str, str]:
    """A booking's receipt (its ``paid`` event): what was paid — the deposit or the price,
    or one credit — the balance left, and the refund policy."""
    with_credit = (event.data or {}).get("method") == "credits"
    extra = {"refund_policy": refund_policy(booking, with_credit=with_credit)}
    if with_credit:
        extra["paid_with_credit"] = "yes"
        return extra
    extra["amount"] = amount_text(booking.deposit or booking.price, booking.currency)
    if event.to_status == "requested":
        extra["authorised"] = "yes"
    extra.update(balance_extra(booking, person))
    return extra
