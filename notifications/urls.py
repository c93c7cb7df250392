from django.urls import path

from notifications import settings_views, views

urlpatterns = [
    path("notifications/", views.inbox, name="notifications"),
    path("notifications/bell/", views.bell, name="notifications_bell"),
    path("notifications/<int:pk>/read/", views.read, name="notification_read"),
    path("notifications/read-all/", views.read_all, name="notifications_read_all"),
    path("profile/notifications/", settings_views.notification_settings, name="notification_settings"),
]
