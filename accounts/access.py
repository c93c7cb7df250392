"""Who may open what. A page or object a user may not see answers 404; one they may see
but not change answers 403 (raised by the services as ``NotAllowed``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from accounts.models import ApiToken, Connection, User


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


def can_book_for(actor: User, client: User) -> bool:
    """The client themself, their guardian, or staff may book on the client's behalf."""
    if actor.pk == client.pk or actor.is_staff_member:
        return True
    return actor.dependent_links.filter(dependent=client).exists()
