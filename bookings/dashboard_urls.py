"""The dashboards of each role (``/dashboard/`` itself, which sends people to theirs, is in ``accounts``)."""

from django.urls import path

from bookings import dashboards

urlpatterns = [
    path("client/", dashboards.client_dashboard, name="client_dashboard"),
    path("coach/", dashboards.coach_dashboard, name="coach_dashboard"),
    path("staff/", dashboards.staff_dashboard, name="staff_dashboard"),
]
