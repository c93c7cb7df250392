"""The back office's page of tag rules (``TagRule``). Not registered by itself: the admin
loads ``availability.admin``, which imports this module (one line there). The product's
own tag pages (``availability.tag_views``) are where coaches and staff usually set rules."""

from __future__ import annotations

from django.contrib import admin

from availability.models import TagRule


@admin.register(TagRule)
class TagRuleAdmin(admin.ModelAdmin):
    list_display = [
        "tag",
        "session_type",
        "approval",
        "minimum_notice_hours",
        "booking_window_days",
        "max_per_day",
        "max_per_week",
        "price_adjustment_percent",
        "waitlist_priority",
    ]
    list_filter = ["approval", ("session_type", admin.EmptyFieldListFilter)]
    search_fields = ["tag__name", "session_type__title", "tag__coach__email", "tag__coach__name"]
    list_select_related = ["tag", "tag__coach", "session_type"]
    autocomplete_fields = ["tag"]
    raw_id_fields = ["session_type"]
