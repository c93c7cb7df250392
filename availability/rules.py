"""The booking rules that apply to one session type: the coach's settings, with the
type's own overrides on top. The slot engine, the services and the pages read these.

Part of the scheduling core: it reads a coach profile and a session type by their
attributes only (``SessionTypeRules``), so it needs nothing from ``bookings``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import CoachProfile
from availability import slots as engine


class ApprovalPolicy(models.TextChoices):
    COACH = "coach", gettext_lazy("Follow the coach's rules")
    ALWAYS = "always", gettext_lazy("Every booking is a request")
    NEVER = "never", gettext_lazy("Never needs approval")


class SessionTypeRules(Protocol):
    """What the rules read of a session type (``bookings.SessionType``): blank (None)
    fields follow the coach's settings."""

    approval: str
    buffer_before_minutes: int | None
    buffer_after_minutes: int | None
    minimum_notice_hours: int | None
    booking_window_days: int | None
    cancellation_notice_hours: int | None
    allow_late_cancellation: bool

    @property
    def duration(self) -> dt.timedelta: ...


# Why a booking is a request rather than firm (``BookingRules.request_reasons``).
TYPE_NEEDS_APPROVAL = "type_needs_approval"  # the session type makes every booking a request
COACH_APPROVES_ALL = "coach_approves_all"  # the coach doesn't allow firm booking
NOT_CONNECTED = "not_connected"  # the client isn't connected and the coach asks approval of them
TOO_SOON = "too_soon"  # the start is within the firm-booking threshold
TAG_NEEDS_APPROVAL = "tag_needs_approval"  # a rule of one of the client's tags asks approval
WINDOW_REQUESTS_ONLY = "window_requests_only"  # the availability window takes requests only
REQUEST_REASONS = (
    TYPE_NEEDS_APPROVAL,
    COACH_APPROVES_ALL,
    NOT_CONNECTED,
    TOO_SOON,
    TAG_NEEDS_APPROVAL,
    WINDOW_REQUESTS_ONLY,
)

# Where a rule's value came from (``BookingRules.sources``): the coach's settings, the
# session type's override, or a client tag's rule (then the tag's name).
FROM_COACH = "coach"
FROM_TYPE = "session type"
TAG_SOURCE = "tag:"


@dataclass(frozen=True, kw_only=True)
class TagRuleView:
    """One rule of a tag the client wears (``availability.models.TagRule`` with its tag's
    name and priority), as the resolution reads it; None fields follow the usual rules."""

    tag: str
    priority: int = 0
    session_type_id: int | None = None
    approval: str = ""
    minimum_notice_hours: int | None = None
    booking_window_days: int | None = None
    max_per_day: int | None = None
    max_per_week: int | None = None
    price_adjustment_percent: int | None = None
    waitlist_priority: int | None = None


# The fields a tag rule may set, in the order they are resolved.
TAG_RULE_FIELDS = (
    "approval",
    "minimum_notice_hours",
    "booking_window_days",
    "max_per_day",
    "max_per_week",
    "price_adjustment_percent",
    "waitlist_priority",
)


@dataclass(frozen=True, kw_only=True)
class BookingRules:
    duration: dt.timedelta
    step: dt.timedelta
    minimum_notice: dt.timedelta
    booking_window: dt.timedelta
    buffer_before: dt.timedelta
    buffer_after: dt.timedelta
    max_per_day: int | None
    max_per_week: int | None
    allow_firm_booking: bool
    firm_threshold: dt.timedelta
    require_approval_unconnected: bool
    approval: str
    cancellation_notice: dt.timedelta
    allow_late_cancellation: bool
    # Which rule decided each value a tag or the session type changed (field name → FROM_TYPE
    # or TAG_SOURCE + the tag's name); a field not named here is the coach's setting.
    sources: Mapping[str, str] = field(default_factory=dict)
    price_adjustment_percent: int | None = None
    waitlist_priority: int | None = None

    def slot_rules(self) -> engine.SlotRules:
        return engine.SlotRules(
            duration=self.duration,
            step=self.step,
            minimum_notice=self.minimum_notice,
            booking_window=self.booking_window,
            buffer_before=self.buffer_before,
            buffer_after=self.buffer_after,
            max_per_day=self.max_per_day,
            max_per_week=self.max_per_week,
        )

    def is_firm(
        self, *, start: dt.datetime, now: dt.datetime, connected: bool, window_allows_firm: bool = True
    ) -> bool:
        """DESIGN.md's rule: firm when the coach allows firm booking, and the client is
        connected or the coach doesn't require approval for unconnected clients, and the
        start is further away than the threshold, and the availability window allows firm
        booking. A session type, or a rule of the client's tags, may force either answer."""
        return not self.request_reasons(
            start=start, now=now, connected=connected, window_allows_firm=window_allows_firm
        )

    def request_reasons(
        self, *, start: dt.datetime, now: dt.datetime, connected: bool, window_allows_firm: bool = True
    ) -> tuple[str, ...]:
        """Why a booking at ``start`` would be a request (empty: it is firm), each reason
        one of ``REQUEST_REASONS``; ``is_firm`` is this being empty. An approval set by a tag
        rule decides alone, before the session type's and the window's: it is the rule
        most particular to the client."""
        if self.approval == ApprovalPolicy.ALWAYS:
            return (TAG_NEEDS_APPROVAL if "approval" in self._tag_sources() else TYPE_NEEDS_APPROVAL,)
        if self.approval == ApprovalPolicy.NEVER:
            return ()
        reasons = []
        if not self.allow_firm_booking:
            reasons.append(COACH_APPROVES_ALL)
        if not connected and self.require_approval_unconnected:
            reasons.append(NOT_CONNECTED)
        if start <= now + self.firm_threshold:
            reasons.append(TOO_SOON)
        if not window_allows_firm:
            reasons.append(WINDOW_REQUESTS_ONLY)
        return tuple(reasons)

    def _tag_sources(self) -> dict[str, str]:
        return {
            name: source.removeprefix(TAG_SOURCE)
            for name, source in self.sources.items()
            if source.startswith(TAG_SOURCE)
        }

    def decided_by(
        self, *, start: dt.datetime, now: dt.datetime, connected: bool, window_allows_firm: bool = True
    ) -> dict:
        """Which rule made a booking at ``start`` firm or a request, as the booking's history
        keeps it: language-neutral (the reasons' codes, the deciding tag), worded for the
        reader by ``decision_text`` ("Firm because VIP", "Request: the client isn't connected")."""
        reasons = self.request_reasons(start=start, now=now, connected=connected, window_allows_firm=window_allows_firm)
        return {
            "reasons": list(reasons),
            "tag": self._tag_sources().get("approval") or "",
            "never": self.approval == ApprovalPolicy.NEVER,
        }


# The reasons a series adds to a single booking's (``bookings.services.series``).
SERIES_NEEDS_APPROVAL = "series_needs_approval"


def decision_text(decision: object) -> str:
    """``decided_by``'s record in a short sentence for the coach, in the active language.
    A sentence recorded by an earlier version (a string) is shown translated when it is one
    of the product's own, else as it was written."""
    if isinstance(decision, str):
        return _(decision.strip()) if decision.strip() else ""
    if not isinstance(decision, dict):
        return ""
    reasons = [code for code in decision.get("reasons") or [] if isinstance(code, str)]
    tag = str(decision.get("tag") or "")
    if not reasons:
        if tag:
            return _("Firm because %(tag)s") % {"tag": tag}
        if decision.get("never"):
            return _("Firm: this session type never needs approval")
        return _("Firm: your rules allow it")
    if reasons == [SERIES_NEEDS_APPROVAL]:
        return _("Request: you approve every series")
    words = {
        TYPE_NEEDS_APPROVAL: _("this session type always needs approval"),
        COACH_APPROVES_ALL: _("you approve every booking"),
        NOT_CONNECTED: _("the client isn't connected"),
        TOO_SOON: _("it starts within the firm-booking threshold"),
        TAG_NEEDS_APPROVAL: _("%(tag)s needs approval") % {"tag": tag},
        WINDOW_REQUESTS_ONLY: _("this availability window takes requests only"),
    }
    return _("Request: %(reasons)s") % {"reasons": "; ".join(words[code] for code in reasons if code in words)}


@dataclass(frozen=True)
class CoachLoad:
    """How many sessions count toward a coach's limits on one local day and in its ISO
    week (Monday ``monday``), as read under the coach's lock during a change."""

    day: dt.date
    monday: dt.date
    in_day: int
    in_week: int

    def plus_one(self) -> CoachLoad:
        return CoachLoad(self.day, self.monday, self.in_day + 1, self.in_week + 1)


def _pick(override: int | None, default: int) -> int:
    return default if override is None else override


def _tag_values(tag_rules: Iterable[TagRuleView], session_type_id: int | None) -> dict[str, tuple[object, str]]:
    """For each field some tag rule sets, its value and the tag that decided: the rule of
    the tag with the highest priority wins, a rule for this very session type before one
    for every type of the same tag, then tag names in alphabetical order."""
    applicable = [rule for rule in tag_rules if rule.session_type_id is None or rule.session_type_id == session_type_id]
    applicable.sort(key=lambda rule: (-rule.priority, rule.session_type_id is None, rule.tag))
    values: dict[str, tuple[object, str]] = {}
    for rule in applicable:
        for name in TAG_RULE_FIELDS:
            value = getattr(rule, name)
            if name not in values and value not in (None, ""):
                values[name] = (value, rule.tag)
    return values


def rules_for(
    profile: CoachProfile,
    session_type: SessionTypeRules | None = None,
    *,
    duration: dt.timedelta | None = None,
    tag_rules: Iterable[TagRuleView] = (),
) -> BookingRules:
    """The rules for ``session_type`` (or, with no type, the coach's own with ``duration``)
    for a client wearing the tags whose rules are ``tag_rules``: the coach's settings, the
    type's overrides on top, the tags' rules on top of both. The one resolution every
    check, listing and page uses; ``BookingRules.sources`` says which rule set what."""
    st = session_type
    if duration is None:
        if st is None:
            raise ValueError("give a session type or a duration")
        duration = st.duration
    sources: dict[str, str] = {}

    def pick(name: str, type_value: int | None, coach_value: int | None) -> int | None:
        if type_value is not None:
            sources[name] = FROM_TYPE
            return type_value
        return coach_value

    notice = pick("minimum_notice_hours", st and st.minimum_notice_hours, profile.minimum_notice_hours)
    window = pick("booking_window_days", st and st.booking_window_days, profile.booking_window_days)
    approval = st.approval if st is not None else ApprovalPolicy.COACH
    if approval != ApprovalPolicy.COACH:
        sources["approval"] = FROM_TYPE
    max_per_day, max_per_week = profile.max_sessions_per_day, profile.max_sessions_per_week
    tagged = _tag_values(tag_rules, getattr(st, "pk", None))
    for name, (_value, tag) in tagged.items():
        sources[name] = TAG_SOURCE + tag
    if "approval" in tagged:
        approval = str(tagged["approval"][0])
    notice = tagged.get("minimum_notice_hours", (notice,))[0]
    window = tagged.get("booking_window_days", (window,))[0]
    max_per_day = tagged.get("max_per_day", (max_per_day,))[0]
    max_per_week = tagged.get("max_per_week", (max_per_week,))[0]
    return BookingRules(
        duration=duration,
        step=dt.timedelta(minutes=profile.slot_step_minutes),
        minimum_notice=dt.timedelta(hours=notice),
        booking_window=dt.timedelta(days=window),
        buffer_before=dt.timedelta(minutes=_pick(st and st.buffer_before_minutes, profile.buffer_before_minutes)),
        buffer_after=dt.timedelta(minutes=_pick(st and st.buffer_after_minutes, profile.buffer_after_minutes)),
        max_per_day=max_per_day,
        max_per_week=max_per_week,
        allow_firm_booking=profile.allow_firm_booking,
        firm_threshold=dt.timedelta(hours=profile.firm_booking_threshold_hours),
        require_approval_unconnected=profile.require_approval_unconnected,
        approval=approval,
        cancellation_notice=dt.timedelta(
            hours=_pick(st and st.cancellation_notice_hours, profile.cancellation_notice_hours)
        ),
        allow_late_cancellation=bool(st and st.allow_late_cancellation),
        sources=sources,
        price_adjustment_percent=tagged.get("price_adjustment_percent", (None,))[0],
        waitlist_priority=tagged.get("waitlist_priority", (None,))[0],
    )
