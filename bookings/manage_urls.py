"""Pages where bookings are looked after: booking details and their actions, the dashboards' live parts."""

from django.urls import path

from bookings import calendar_views as calendar_pages
from bookings import manage_views as views
from bookings import series_coach_views, session_type_views, workshop_views

urlpatterns = [
    path("bookings/<str:reference>/", views.booking_detail, name="booking_detail"),
    path("bookings/<str:reference>/certificate/", workshop_views.certificate, name="booking_certificate"),
    path("bookings/<str:reference>/suggest-times/", views.suggest_fields_fragment, name="booking_suggest_fields"),
    path(
        "bookings/<str:reference>/<slug:action>/",
        views.booking_action,
        name="booking_action",
    ),
    path("plans/<int:pk>/remove/", views.plan_drop, name="plan_drop"),
    path("coach/live/", views.coach_live, name="coach_live"),
    path("coach/sessions/publish/", views.session_publish, name="session_publish"),
    path("coach/sessions/<int:pk>/start/", views.session_start, name="session_start"),
    path("coach/sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("coach/sessions/<int:session_id>/", workshop_views.session_page, name="workshop_session"),
    path("coach/sessions/<int:session_id>/confirm/", workshop_views.confirm_now, name="workshop_confirm"),
    path("materials/<int:pk>/", workshop_views.material_file, name="material_file"),
    path("materials/<int:pk>/remove/", workshop_views.remove_material, name="material_remove"),
    path("staff/live/", views.staff_live, name="staff_live"),
    path("coach/series/<int:pk>/approve/", series_coach_views.series_approve, name="series_approve"),
    path("coach/series/<int:pk>/decline/", series_coach_views.series_decline, name="series_decline"),
    path("coach/series/<int:pk>/decline-one/", series_coach_views.series_decline_one, name="series_decline_one"),
    path("coach/series/<int:pk>/suggest/", series_coach_views.series_suggest, name="series_suggest"),
    path("coach/availability/outside-hours/", views.outside_hours_review, name="outside_hours"),
    path("coach/calendar/", calendar_pages.coach_calendar, name="coach_calendar"),
    path("coach/calendar/week/<str:day>/", calendar_pages.coach_calendar_week, name="coach_calendar_week"),
    path("coach/calendar/month/<str:month>/", calendar_pages.coach_calendar_month, name="coach_calendar_month"),
    path("coach/session-types/", session_type_views.session_type_list, name="session_types"),
    path("coach/session-types/new/", session_type_views.session_type_create, name="session_type_create"),
    path("coach/session-types/preview/", session_type_views.session_type_preview, name="session_type_preview"),
    path("coach/session-types/<int:pk>/", session_type_views.session_type_edit, name="session_type_edit"),
    path(
        "coach/session-types/<int:pk>/duplicate/",
        session_type_views.session_type_duplicate,
        name="session_type_duplicate",
    ),
    path("coach/session-types/<int:pk>/archive/", session_type_views.session_type_archive, name="session_type_archive"),
    path("coach/session-types/<int:pk>/restore/", session_type_views.session_type_restore, name="session_type_restore"),
    path("coach/session-types/<int:pk>/move/", session_type_views.session_type_move, name="session_type_move"),
]
