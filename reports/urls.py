from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.report_page, name="reports"),
    path("reports/bookings.csv", views.bookings_csv, name="reports_bookings_csv"),
    path("reports/<slug:slug>.csv", views.report_csv, name="reports_csv"),
    path("reports/all/", views.report_all, name="reports_all"),
    path("reports/<slug:slug>/", views.report_page, name="reports_page"),
]
