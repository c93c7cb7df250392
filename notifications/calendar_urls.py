"""Calendar addresses: private feeds and per-booking .ics downloads."""

from django.urls import path

from notifications import calendar_views as views

urlpatterns = [
    # Any text at all (slashes too) reaches the view, so every wrong address gets the same 404.
    path("calendar/<path:secret>.ics", views.feed, name="calendar_feed"),
    path("profile/calendar/rotate/", views.rotate, name="calendar_rotate"),
    path("bookings/<str:reference>/calendar.ics", views.booking_download, name="booking_ics"),
]
