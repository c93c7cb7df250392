"""Calendar addresses: private feeds and per-booking .ics downloads."""

urlpatterns: list = []
