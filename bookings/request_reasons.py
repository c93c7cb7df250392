"""Why a booking will be a request, and what happens next, in plain words for the wizard's
confirm step. The rule itself is ``BookingRules.request_reasons`` (``is_firm`` is it being
empty); this only words it for the person booking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from availability import rules as booking_rules
from bookings.models import SessionType
from bookings.services.checks import _availability_at
from bookings.services.common import REQUEST_EXPIRY


@dataclass(frozen=True)
class RequestExplanation:
    reasons: list[str]  # why it is a request, one sentence each
    deadline: dt.datetime  # when the coach must have answered (the request is declined then)
    by_start: bool  # the deadline is the session's start (sooner than the usual expiry)
    expiry_hours: int  # the usual time to answer, in hours


def explain_request(
    rules: booking_rules.BookingRules,
    *,
    start: dt.datetime,
    now: dt.datetime,
    connected: bool,
    coach: User,
    client: User,
    booker: User,
    window_allows_firm: bool = True,
) -> RequestExplanation | None:
    """None when a booking at ``start`` is firm; else its reasons and the answer's deadline."""
    codes = rules.request_reasons(start=start, now=now, connected=connected, window_allows_firm=window_allows_firm)
    if not codes:
        return None
    coach_name = coach.display_name
    hours = int(rules.firm_threshold.total_seconds() // 3600)
    words = {
        booking_rules.TYPE_NEEDS_APPROVAL: _("This session type always needs %(coach)s's approval.")
        % {"coach": coach_name},
        booking_rules.COACH_APPROVES_ALL: _("%(coach)s approves every booking personally.") % {"coach": coach_name},
        booking_rules.NOT_CONNECTED: (
            _("You're not connected with %(coach)s yet: bookings from new clients need approval.")
            if client.pk == booker.pk
            else _("%(client)s isn't connected with %(coach)s yet: bookings from new clients need approval.")
        )
        % {"coach": coach_name, "client": client.display_name},
        booking_rules.TOO_SOON: ngettext(
            "It starts in less than %(hours)s hour: bookings this close to the start need approval.",
            "It starts in less than %(hours)s hours: bookings this close to the start need approval.",
            hours,
        )
        % {"hours": hours},
        booking_rules.TAG_NEEDS_APPROVAL: _("%(coach)s approves bookings like this one personally.")
        % {"coach": coach_name},
        booking_rules.WINDOW_REQUESTS_ONLY: _("%(coach)s approves bookings at this time of the week personally.")
        % {"coach": coach_name},
    }
    deadline = min(now + REQUEST_EXPIRY, start)
    return RequestExplanation(
        reasons=[words[code] for code in codes],
        deadline=deadline,
        by_start=deadline == start,
        expiry_hours=int(REQUEST_EXPIRY.total_seconds() // 3600),
    )


def window_allows_firm_at(session_type: SessionType, rules: booking_rules.BookingRules, start: dt.datetime) -> bool:
    """Whether the type's coach's window at ``start`` allows firm booking (True when no
    window offers it: then the booking is refused anyway, for that reason)."""
    offered, firm = _availability_at(session_type.coach, session_type, rules, start)
    return firm or not offered
