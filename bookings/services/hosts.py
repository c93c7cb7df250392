"""Who hosts a session: the coach alone, the coach and every co-host together, or one of
a team chosen by round robin; and the rules each host's time is checked against.

Round robin's fairness rule: of the team members free at the time, the one hosting the
fewest sessions of this type (not cancelled) starting within ``FAIRNESS_SPAN`` either
side of the new start; then the one whose last such session was made longest ago (never
first); then the lowest id. It is checked under the locks of every team member, so two
bookings at once can't both count the same host as the least busy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Max
from django.utils.translation import gettext as _

from accounts.models import User
from availability.rules import BookingRules, CoachLoad, TagRuleView, rules_for
from availability.selectors import hosts_for
from bookings.models import HostMode, Session, SessionStatus, SessionType
from bookings.services.checks import _availability_at, _check_client_free, _check_coach_time
from bookings.services.common import BookingRefused

FAIRNESS_SPAN = dt.timedelta(days=28)


@dataclass
class HostPlan:
    """Read before the booking's transaction: the hosts (every one needed, or the
    candidates of a team), each one's rules, and whether the window each is booked in
    allows firm booking. ``rules`` are the lead's (the type's coach): they decide notice,
    window and firm or request."""

    session_type: SessionType
    mode: str
    rules: BookingRules
    hosts: list[User]
    host_rules: dict[int, BookingRules] = field(default_factory=dict)
    firm_window: dict[int, bool] = field(default_factory=dict)

    def co_hosts(self, chosen: list[User]) -> list[tuple[User, BookingRules]]:
        return [(host, self.host_rules[host.pk]) for host in chosen[1:]]


def plan_hosts(
    session_type: SessionType,
    *,
    tag_rules: list[TagRuleView],
    keep: list[User] | None = None,
) -> HostPlan:
    """The hosts of a booking and their rules. ``keep``: the hosts of a co-hosted session
    being moved (they stay: the session moves with all of them)."""
    lead = session_type.coach
    rules = rules_for(lead.coach_profile, session_type, tag_rules=tag_rules)
    hosts = keep if keep is not None else hosts_for(session_type)
    if not hosts:
        raise BookingRefused(
            _("%(type)s can't be booked now: one of its hosts no longer takes sessions.")
            % {"type": session_type.title},
            code="outside_availability",
        )
    plan = HostPlan(session_type=session_type, mode=session_type.host_mode, rules=rules, hosts=list(hosts))
    for host in plan.hosts:
        plan.host_rules[host.pk] = (
            rules if host.pk == lead.pk else rules_for(host.coach_profile, session_type, tag_rules=tag_rules)
        )
    return plan


def check_offered(plan: HostPlan, *, start: dt.datetime) -> None:
    """Each needed host's windows offer ``start`` (a team keeps as candidates the members
    whose windows do), and note whether each one's window allows firm booking."""
    session_type = plan.session_type
    offered = []
    for host in plan.hosts:
        found, firm = _availability_at(host, session_type, plan.host_rules[host.pk], start)
        plan.firm_window[host.pk] = firm
        if found:
            offered.append(host)
        elif plan.mode != HostMode.ANY:
            raise BookingRefused(
                _("%(coach)s doesn't offer %(type)s at this time. Select a listed time.")
                % {"coach": host.display_name, "type": session_type.title},
                code="outside_availability",
            )
    if not offered:
        raise BookingRefused(
            _("Nobody in the team offers %(type)s at this time. Select a listed time.") % {"type": session_type.title},
            code="outside_availability",
        )
    plan.hosts = offered


def claim_hosts(
    plan: HostPlan,
    *,
    start: dt.datetime,
    end: dt.datetime,
    client: User,
    exclude: list[int] | tuple[int, ...] = (),
    exclude_booking: int | None = None,
    prefer: User | None = None,
) -> tuple[list[User], CoachLoad]:
    """Under the locks of every host and the client: check each needed host's time (or
    find the team's free members and pick one: ``prefer`` when free — a moved session
    keeps its host when it can — else fairly) and the client's. Returns the session's
    hosts, its coach first, and that coach's load before the booking."""

    def check(host: User, with_client: bool) -> CoachLoad:
        host_rules = plan.host_rules[host.pk]
        return _check_coach_time(
            host,
            host_rules,
            start=start,
            blocked_start=start - host_rules.buffer_before,
            blocked_end=end + host_rules.buffer_after,
            exclude=exclude,
            client=client if with_client else None,
            end=end,
            exclude_booking=exclude_booking,
        )

    if plan.mode != HostMode.ANY or len(plan.hosts) == 1:
        loads = [check(host, index == 0) for index, host in enumerate(plan.hosts)]
        return plan.hosts, loads[0]
    _check_client_free(client, start=start, end=end, exclude_booking=exclude_booking)
    free: dict[int, CoachLoad] = {}
    refusal: BookingRefused | None = None
    for host in plan.hosts:
        try:
            free[host.pk] = check(host, False)
        except BookingRefused as error:
            refusal = refusal or error
    if not free:
        assert refusal is not None
        raise refusal
    if prefer is not None and prefer.pk in free:
        chosen = next(host for host in plan.hosts if host.pk == prefer.pk)
    else:
        chosen = fairest(plan.session_type, [host for host in plan.hosts if host.pk in free], start=start)
    return [chosen], free[chosen.pk]


def fairest(session_type: SessionType, hosts: list[User], *, start: dt.datetime) -> User:
    """The module's fairness rule, among ``hosts`` (all free at ``start``)."""
    if len(hosts) == 1:
        return hosts[0]
    stats = {
        row["coach"]: (row["count"], row["latest"])
        for row in Session.objects.filter(
            session_type=session_type,
            coach__in=[host.pk for host in hosts],
            start__gte=start - FAIRNESS_SPAN,
            start__lt=start + FAIRNESS_SPAN,
        )
        .exclude(status=SessionStatus.CANCELLED)
        .order_by()
        .values("coach")
        .annotate(count=Count("id"), latest=Max("created_at"))
    }
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    return min(hosts, key=lambda host: (stats.get(host.pk, (0, never))[0], stats.get(host.pk, (0, never))[1], host.pk))
