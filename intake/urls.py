from django.urls import path

from intake import consent_views, form_views, views

urlpatterns = [
    path("coach/notes/", views.coach_notes, name="coach_notes"),
    path("coach/notes/<int:pk>/edit/", views.note_edit, name="note_edit"),
    path("coach/notes/<int:pk>/delete/", views.note_delete, name="note_delete"),
    path("coach/notes/booking/<str:reference>/", views.booking_note_add, name="booking_note_add"),
    path("coach/clients/<int:client_id>/notes/", views.client_notes, name="client_notes"),
    path("coach/consents/", consent_views.consent_documents, name="consent_documents"),
    path("coach/consents/<int:pk>/", consent_views.consent_document, name="consent_document"),
    path("account/consents/", consent_views.my_consents, name="my_consents"),
    path("coach/intake-forms/", form_views.intake_forms, name="intake_forms"),
    path("coach/intake-forms/<int:pk>/", form_views.intake_form, name="intake_form"),
    path(
        "coach/intake-forms/<int:pk>/questions/<int:question_id>/",
        form_views.intake_question,
        name="intake_question",
    ),
    path("book/questions/<int:form_id>/<int:type_id>/", form_views.questions, name="intake_questions"),
    path("account/answers/", form_views.my_answers, name="my_answers"),
    path("intake/answers/<int:pk>/", form_views.answers_detail, name="intake_answers"),
    path("intake/files/<int:pk>/", form_views.answer_file, name="intake_file"),
]
