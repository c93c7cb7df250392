"""Who may open what. A page or object a user may not see answers 404; one they may see
but not change answers 403 (raised by the services as ``NotAllowed``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from accounts.models import ApiToken, Connection, ConnectionStatus, Role, User


def has_role(user: User, *roles: str) -> bool:
    """Admins (superusers) pass every role check."""
    return user.is_authenticated and (user.is_superuser or user.role in roles)


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Login required, then 404 (not 403) for other roles so the page's existence isn't disclosed."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise Http404("Page not found")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def connections_visible_to(user: User) -> Any:
    if user.is_staff_member:
        return Connection.objects.all()
    return Connection.objects.filter(Q(client=user) | Q(coach=user))


def get_connection_for(user: User, pk: int) -> Connection:
    return get_object_or_404(connections_visible_to(user).select_related("client", "coach"), pk=pk)


def get_token_for(user: User, pk: int) -> ApiToken:
    return get_object_or_404(ApiToken.objects.filter(user=user), pk=pk)


def can_book_for(actor: User, client: User, *, coach: User | None = None) -> bool:
    """Who may book (and act on the client's side of a booking) for ``client``: the client
    themself; their guardian; back-office staff, for an active client account; and, for a
    booking with ``coach``, that coach for an active client connected to them (accepted).
    A coach may not book a client with another coach, nor a client not connected to them;
    staff may not book for a coach, another staff member or a deactivated account."""
    if actor.pk == client.pk:
        return True
    bookable_client = client.is_active and client.role == Role.CLIENT and not client.is_superuser
    if actor.is_staff_member:
        return bookable_client
    coach_of_client = coach is not None and actor.pk == coach.pk and actor.role == Role.COACH and bookable_client
    if (
        coach_of_client
        and Connection.objects.filter(client=client, coach=actor, status=ConnectionStatus.ACCEPTED).exists()
    ):
        return True
    return actor.dependent_links.filter(dependent=client).exists()


def clients_bookable_by(actor: User) -> QuerySet[User]:
    """The clients ``actor`` may pick in "Book for a client": every active client for
    staff, a coach's connected clients for a coach, nobody for anyone else."""
    clients = User.objects.filter(role=Role.CLIENT, is_active=True, is_superuser=False)
    if actor.is_staff_member:
        return clients
    if actor.role == Role.COACH:
        return clients.filter(
            coach_connections__coach=actor, coach_connections__status=ConnectionStatus.ACCEPTED
        ).distinct()
    return clients.none()
