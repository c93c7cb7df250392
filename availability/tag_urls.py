"""Client tags and their booking rules, and subjects (``availability.tag_views``)."""

urlpatterns: list = []
