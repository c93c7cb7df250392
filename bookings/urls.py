from django.urls import path

from bookings import views

urlpatterns = [
    path("book/", views.book_coach_list, name="book_coach_list"),
    path("book/<int:coach_id>/", views.book_coach, name="book_coach"),
]
