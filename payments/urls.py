"""Callbacks from the payment gateways."""

from django.urls import path

from payments import views

urlpatterns = [
    path("payments/stripe/webhook/", views.stripe_webhook, name="payments_stripe_webhook"),
]
