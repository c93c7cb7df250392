"""Rooms and equipment, managed by staff and coaches (``availability.room_views``)."""

from django.urls import path

from availability import room_views as views

urlpatterns = [
    path("rooms/", views.room_list, name="rooms"),
    path("rooms/new/", views.room_create, name="room_create"),
    path("rooms/<int:pk>/", views.room_edit, name="room_edit"),
    path("rooms/<int:pk>/hours/", views.room_hours, name="room_hours"),
    path("rooms/<int:pk>/closures/", views.room_closure_add, name="room_closure_add"),
    path("rooms/<int:pk>/closures/<int:closure_pk>/delete/", views.room_closure_delete, name="room_closure_delete"),
    path("rooms/<int:pk>/deactivate/", views.room_deactivate, name="room_deactivate"),
    path("rooms/<int:pk>/reactivate/", views.room_reactivate, name="room_reactivate"),
    path("rooms/<int:pk>/calendar/", views.room_calendar, name="room_calendar"),
    path("rooms/<int:pk>/calendar/<str:day>/", views.room_calendar_week, name="room_calendar_week"),
]
