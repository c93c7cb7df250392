"""Client tags and their booking rules, and subjects (``accounts.tag_views``)."""

urlpatterns: list = []
