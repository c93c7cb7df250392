"""The payer's pages, the gateways' callbacks, the client's money pages and the coach's and
staff's payment, package, programme and enrollment pages."""

from django.urls import path

from payments import account_views, manage_views, pay_views, views

app_name = "payments"

urlpatterns = [
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("payments/booking/<str:reference>/pay/", pay_views.pay, name="pay"),
    path("payments/booking/<str:reference>/balance/", pay_views.pay_balance, name="pay_balance"),
    path("payments/booking/<str:reference>/abandon/", pay_views.abandon, name="abandon"),
    path("payments/series/<int:pk>/pay/", pay_views.pay_series, name="pay_series"),
    path("payments/<int:pk>/return/", pay_views.returned, name="returned"),
    path("payments/local/<str:checkout_id>/", pay_views.local_checkout, name="local_checkout"),
    # The client's own
    path("payments/mine/", account_views.mine, name="mine"),
    path("payments/<int:pk>/receipt/", account_views.receipt, name="receipt"),
    path("payments/packages/", account_views.packages, name="packages"),
    path("payments/packages/<int:pk>/buy/", account_views.buy_package, name="buy_package"),
    path("payments/programmes/", account_views.programmes, name="programmes"),
    path("payments/programmes/<int:pk>/enroll/", account_views.enroll_programme, name="enroll"),
    # Coaches and staff
    path("payments/", manage_views.payment_list, name="list"),
    path("payments/manage/packages/", manage_views.package_list, name="manage_packages"),
    path("payments/manage/packages/new/", manage_views.package_create, name="package_create"),
    path("payments/manage/packages/<int:pk>/", manage_views.package_edit, name="package_edit"),
    path("payments/manage/programmes/", manage_views.programme_list, name="manage_programmes"),
    path("payments/manage/programmes/new/", manage_views.programme_create, name="programme_create"),
    path("payments/manage/programmes/<int:pk>/", manage_views.programme_edit, name="programme_edit"),
    path("payments/manage/programmes/<int:pk>/enroll/", manage_views.enroll_client, name="enroll_client"),
    path("payments/manage/enrollments/<int:pk>/end/", manage_views.end_enrollment, name="end_enrollment"),
]
