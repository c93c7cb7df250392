from django.urls import include, path

from bookings import views

urlpatterns = [
    path("book/", views.book_coach_list, name="book_coach_list"),
    path("book/for/", views.book_for_client, name="book_for_client"),
    path("book/session/<int:session_id>/", views.book_seat, name="book_seat"),
    path("book/<int:coach_id>/", views.book_coach, name="book_coach"),
    path("book/<int:coach_id>/<int:type_id>/", views.book_type, name="book_type"),
    path("book/<int:coach_id>/<int:type_id>/confirm/", views.book_confirm, name="book_confirm"),
    path("book/<int:coach_id>/<int:type_id>/later/", views.book_later, name="book_later"),
    path("bookings/<str:reference>/done/", views.booking_done, name="booking_done"),
    path("bookings/<str:reference>/reschedule/", views.reschedule, name="booking_reschedule"),
    path("bookings/<str:reference>/reschedule/confirm/", views.reschedule_confirm, name="booking_reschedule_confirm"),
    path("bookings/<str:reference>/cancel/confirm/", views.cancel_confirm, name="booking_cancel_confirm"),
    path("", include("bookings.series_urls")),
]
