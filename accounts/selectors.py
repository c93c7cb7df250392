"""Reads about people that pages and the API share."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.models import CalendarVisibility, Connection, ConnectionStatus, GuardianLink, Role, User


def coaches_visible_to(viewer: User | None) -> QuerySet[User]:
    """Coaches whose calendar ``viewer`` may see: public ones for everyone, connected-only
    ones for their connected clients, private ones for staff only."""
    coaches = User.objects.filter(role=Role.COACH, is_active=True).select_related("coach_profile")
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
