"""Reads about people that pages and the API share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.models import (
    CalendarVisibility,
    ClientTag,
    ClientTagging,
    Connection,
    ConnectionStatus,
    GuardianLink,
    Role,
    Subject,
    User,
)


def coaches_visible_to(viewer: User | None, *, subject: Subject | None = None) -> QuerySet[User]:
    """Coaches whose calendar ``viewer`` may see: public ones for everyone, connected-only
    ones for their connected clients, private ones for staff only. With ``subject``, only
    the coaches who declare it."""
    coaches = User.objects.filter(role=Role.COACH, is_active=True).select_related("coach_profile")
    if subject is not None:
        coaches = coaches.filter(coach_profile__subjects=subject)
    if viewer is not None and viewer.is_authenticated and viewer.is_staff_member:
        return coaches
    visible = Q(coach_profile__calendar_visibility=CalendarVisibility.PUBLIC)
    if viewer is not None and viewer.is_authenticated:
        visible |= Q(
            coach_profile__calendar_visibility=CalendarVisibility.CONNECTED,
            client_connections__client=viewer,
            client_connections__status=ConnectionStatus.ACCEPTED,
        )
    return coaches.filter(visible).distinct()


def coaches_open_to_requests(client: User) -> QuerySet[User]:
    """Coaches a client may ask to connect with: any coach that isn't private."""
    already = Connection.objects.filter(client=client, status__in=[ConnectionStatus.PENDING, ConnectionStatus.ACCEPTED])
    return (
        User.objects.filter(role=Role.COACH, is_active=True)
        .exclude(coach_profile__calendar_visibility=CalendarVisibility.PRIVATE)
        .exclude(pk__in=already.values("coach"))
    )


def is_connected(client: User, coach: User) -> bool:
    return Connection.objects.filter(client=client, coach=coach, status=ConnectionStatus.ACCEPTED).exists()


def connections_of_client(client: User) -> QuerySet[Connection]:
    return Connection.objects.filter(client=client).select_related("coach")


def connections_of_coach(coach: User) -> QuerySet[Connection]:
    return Connection.objects.filter(coach=coach).select_related("client")


def dependents_of(guardian: User) -> QuerySet[GuardianLink]:
    return GuardianLink.objects.filter(guardian=guardian).select_related("dependent")


def guardians_of(dependent: User) -> QuerySet[GuardianLink]:
    return GuardianLink.objects.filter(dependent=dependent).select_related("guardian")


def staff_overview() -> dict[str, Any]:
    counts = User.objects.filter(is_active=True).aggregate(
        clients=Count("pk", filter=Q(role=Role.CLIENT)),
        coaches=Count("pk", filter=Q(role=Role.COACH)),
        staff=Count("pk", filter=Q(role=Role.STAFF)),
    )
    return {
        "counts": counts,
        "pending_connections": Connection.objects.filter(status=ConnectionStatus.PENDING)
        .select_related("client", "coach")
        .order_by("requested_at")[:10],
        "coaches": User.objects.filter(role=Role.COACH, is_active=True).select_related("coach_profile"),
        "recent_users": User.objects.order_by("-date_joined")[:8],
    }


# --- subjects -----------------------------------------------------------------------------


def subjects_of_coaches(coaches: QuerySet[User]) -> QuerySet[Subject]:
    """The subjects at least one of ``coaches`` declares, by name (the directory's filter)."""
    return Subject.objects.filter(coaches__user__in=coaches.values("pk")).distinct().order_by("name")


def subjects_by_coach(coaches: Iterable[User]) -> dict[int, list[Subject]]:
    """Each coach's subjects, by name, in one query."""
    ids = [coach.pk for coach in coaches]
    found: dict[int, list[Subject]] = {pk: [] for pk in ids}
    through = Subject.coaches.through.objects.filter(coachprofile__user_id__in=ids).select_related(
        "subject", "coachprofile"
    )
    for row in sorted(through, key=lambda row: row.subject.name.lower()):
        found[row.coachprofile.user_id].append(row.subject)
    return found


# --- client tags ----------------------------------------------------------------------------


def tags_by_client(coach: User, clients: Iterable[User]) -> dict[int, list[ClientTag]]:
    """For a coach's list of clients: each client's tags that apply with ``coach`` (the
    coach's own and the practice's), highest priority first, in one query."""
    ids = [client.pk for client in clients]
    found: dict[int, list[ClientTag]] = {pk: [] for pk in ids}
    taggings = (
        ClientTagging.objects.filter(client_id__in=ids)
        .filter(Q(tag__coach=coach) | Q(tag__coach__isnull=True))
        .select_related("tag")
        .order_by("-tag__priority", "tag__name")
    )
    for tagging in taggings:
        found[tagging.client_id].append(tagging.tag)
    return found


def own_tags(coach: User) -> QuerySet[ClientTag]:
    """The tags ``coach`` made, highest priority first."""
    return ClientTag.objects.filter(coach=coach).order_by("-priority", "name")
