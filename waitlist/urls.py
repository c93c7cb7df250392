"""The waitlist's pages."""

from django.urls import path

from waitlist import views

app_name = "waitlist"

urlpatterns = [
    path("waitlist/", views.mine, name="mine"),
    path("waitlist/join/<int:session_id>/", views.join, name="join"),
    path("waitlist/times/<int:type_id>/", views.join_times, name="times"),
    path("waitlist/<int:pk>/leave/", views.leave, name="leave"),
    path("waitlist/offers/<int:pk>/", views.offer, name="offer"),
    path("waitlist/session/<int:session_id>/", views.queue, name="queue"),
    path("waitlist/type/<int:type_id>/", views.type_queue, name="type_queue"),
    path("waitlist/<int:pk>/move/", views.move, name="move"),
]
