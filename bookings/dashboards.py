"""Each role's dashboard: the people side (connections, dependents, the staff overview) from
``accounts`` beside the bookings side from ``manage_views``. Dashboards combine apps, so
they live in the highest app they read, not in ``accounts``; the templates keep their
``accounts/`` names and the URLs their names (``client_dashboard``, ``coach_dashboard``,
``staff_dashboard``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import selectors
from accounts.access import role_required
from accounts.models import Role
from bookings import manage_views


@role_required(Role.CLIENT)
def client_dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "accounts/client_dashboard.html",
        {
            "connections": selectors.connections_of_client(user),
            "dependents": selectors.dependents_of(user),
            **manage_views.client_dashboard_context(user),
        },
    )


@role_required(Role.COACH)
def coach_dashboard(request: HttpRequest) -> HttpResponse:
    return manage_views.render_coach_dashboard(request)


@role_required(Role.STAFF)
def staff_dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/staff_dashboard.html",
        {**selectors.staff_overview(), **manage_views.staff_live_context(request)},
    )
