from django.urls import path

from intake import views

urlpatterns = [
    path("coach/notes/", views.coach_notes, name="coach_notes"),
    path("coach/notes/<int:pk>/edit/", views.note_edit, name="note_edit"),
    path("coach/notes/<int:pk>/delete/", views.note_delete, name="note_delete"),
    path("coach/notes/booking/<str:reference>/", views.booking_note_add, name="booking_note_add"),
    path("coach/clients/<int:client_id>/notes/", views.client_notes, name="client_notes"),
]
