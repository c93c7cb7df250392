"""The back-office ``Staff`` group and what it may do in the admin.

Staff manage people and the calendar, never the admin's own settings (groups,
permissions, superuser flags). Later migrations call ``sync_staff_group`` again once
their models exist, so the group always covers every model listed here.
"""

from __future__ import annotations

from typing import Any

STAFF_GROUP_NAME = "Staff"

# app label -> model name -> actions
STAFF_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "user": ("view", "add", "change"),
        "coachprofile": ("view", "add", "change"),
        "connection": ("view", "add", "change", "delete"),
        "guardianlink": ("view", "add", "change", "delete"),
        "apitoken": ("view",),
    },
    "account": {"emailaddress": ("view", "add", "change")},
    "availability": {
        "availabilitywindow": ("view", "add", "change", "delete"),
        "dateoverride": ("view", "add", "change", "delete"),
        "overridewindow": ("view", "add", "change", "delete"),
        "timeoff": ("view", "add", "change", "delete"),
        "resource": ("view", "add", "change", "delete"),
        "allocation": ("view",),
    },
    "bookings": {
        "sessiontype": ("view", "add", "change"),
        "session": ("view", "change"),
        "booking": ("view", "change"),
        "bookingevent": ("view",),
        "plannedsession": ("view", "change", "delete"),
        "relayretry": ("view", "change"),
    },
    "notifications": {
        "notification": ("view",),
        "delivery": ("view",),
        "reminder": ("view",),
        "messagetemplate": ("view", "add", "change", "delete"),
        "notificationsettings": ("view",),
    },
    "django_q": {
        "schedule": ("view",),
        "success": ("view",),
        "failure": ("view",),
        "ormq": ("view",),
    },
}


def sync_staff_group(apps: Any, schema_editor: Any = None) -> None:
    """Create the Staff group and give it exactly the permissions above (migration-safe)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP_NAME)
    wanted = []
    for app_label, models in STAFF_PERMISSIONS.items():
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames).values_list(
                    "pk", flat=True
                )
            )
    group.permissions.set(wanted)
