"""Rooms and equipment, managed by staff and coaches (``availability.room_views``)."""

urlpatterns: list = []
