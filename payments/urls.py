"""The payer's pages and the gateways' callbacks."""

from django.urls import path

from payments import pay_views, views

app_name = "payments"

urlpatterns = [
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("payments/booking/<str:reference>/pay/", pay_views.pay, name="pay"),
    path("payments/booking/<str:reference>/balance/", pay_views.pay_balance, name="pay_balance"),
    path("payments/booking/<str:reference>/abandon/", pay_views.abandon, name="abandon"),
    path("payments/<int:pk>/return/", pay_views.returned, name="returned"),
    path("payments/local/<str:checkout_id>/", pay_views.local_checkout, name="local_checkout"),
]
