"""Callbacks from the SMS provider."""

urlpatterns: list = []
