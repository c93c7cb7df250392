from django.urls import path

from calendar_sync import views

urlpatterns = [
    path("coach/calendars/", views.connections, name="calendar_connections"),
    path("coach/calendars/<int:pk>/sync/", views.sync_now, name="calendar_sync_now"),
    path("coach/calendars/<int:pk>/remove/", views.remove, name="calendar_remove"),
    path("coach/calendars/<int:pk>/calendars/", views.calendars, name="calendar_choose"),
    path("coach/calendars/connect/<slug:provider>/", views.oauth_start, name="calendar_oauth_start"),
    path("coach/calendars/oauth/<slug:provider>/callback/", views.oauth_callback, name="calendar_oauth_callback"),
]
