"""The client's pages of a recurring series (``bookings.series_views``)."""

from django.urls import path

from bookings import series_views

urlpatterns = [
    path(
        "book/series/preview/<int:coach_id>/<int:type_id>/",
        series_views.series_preview,
        name="series_preview",
    ),
    path("series/<int:pk>/", series_views.series_detail, name="series_detail"),
    path("series/<int:pk>/accept-time/", series_views.series_accept_time, name="series_accept_time"),
    path("series/<int:pk>/decline-time/", series_views.series_decline_time, name="series_decline_time"),
    path("series/<int:pk>/<slug:action>/", series_views.series_action, name="series_action"),
]
