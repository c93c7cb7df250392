from django.urls import path

from availability import views

urlpatterns = [
    path("coach/availability/", views.editor, name="availability_editor"),
    path("coach/availability/days/<int:weekday>/windows/", views.window_add, name="availability_window_add"),
    path("coach/availability/days/<int:weekday>/clear/", views.day_clear, name="availability_day_clear"),
    path("coach/availability/windows/<int:pk>/edit/", views.window_edit, name="availability_window_edit"),
    path("coach/availability/windows/<int:pk>/delete/", views.window_delete, name="availability_window_delete"),
    path("coach/availability/copy-monday/", views.copy_monday, name="availability_copy_monday"),
    path("coach/availability/default-pattern/", views.default_pattern, name="availability_default_pattern"),
    path("coach/availability/overrides/", views.override_save, name="availability_override_save"),
    path("coach/availability/overrides/<int:pk>/delete/", views.override_delete, name="availability_override_delete"),
    path("coach/availability/time-off/", views.time_off_add, name="availability_time_off_add"),
    path("coach/availability/time-off/<int:pk>/delete/", views.time_off_delete, name="availability_time_off_delete"),
    path("coach/availability/settings/", views.settings_save, name="availability_settings"),
]
