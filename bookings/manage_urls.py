"""Pages where bookings are looked after: booking details and their actions, the dashboards' live parts."""

from django.urls import path

from bookings import manage_views as views

urlpatterns = [
    path("bookings/<str:reference>/", views.booking_detail, name="booking_detail"),
    path(
        "bookings/<str:reference>/<slug:action>/",
        views.booking_action,
        name="booking_action",
    ),
    path("plans/<int:pk>/remove/", views.plan_drop, name="plan_drop"),
    path("coach/live/", views.coach_live, name="coach_live"),
    path("coach/sessions/publish/", views.session_publish, name="session_publish"),
    path("coach/sessions/<int:pk>/start/", views.session_start, name="session_start"),
    path("coach/sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("staff/live/", views.staff_live, name="staff_live"),
]
