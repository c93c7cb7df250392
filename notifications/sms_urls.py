"""Callbacks from the SMS provider."""

from django.urls import path

from notifications import sms_views

urlpatterns = [
    path("sms/twilio/status/", sms_views.twilio_status, name="sms_twilio_status"),
]
