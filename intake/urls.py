from django.urls import path

from intake import consent_views, views

urlpatterns = [
    path("coach/notes/", views.coach_notes, name="coach_notes"),
    path("coach/notes/<int:pk>/edit/", views.note_edit, name="note_edit"),
    path("coach/notes/<int:pk>/delete/", views.note_delete, name="note_delete"),
    path("coach/notes/booking/<str:reference>/", views.booking_note_add, name="booking_note_add"),
    path("coach/clients/<int:client_id>/notes/", views.client_notes, name="client_notes"),
    path("coach/consents/", consent_views.consent_documents, name="consent_documents"),
    path("coach/consents/<int:pk>/", consent_views.consent_document, name="consent_document"),
    path("account/consents/", consent_views.my_consents, name="my_consents"),
]
