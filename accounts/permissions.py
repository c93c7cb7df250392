"""The back-office ``Staff`` group, what it may do in the admin, and who may change whose
role and access.

Staff manage people and the calendar, never the admin's own settings (groups,
permissions, superuser flags). Later migrations call ``sync_staff_group`` again once
their models exist, so the group always covers every model listed here.

The rule for roles and access (every admin path asks the functions at the end of this
module, and only them):

- an admin (superuser) changes anyone's account, role and active flag but their own;
- staff change clients and coaches: their details, their role between client and coach,
  and whether they are active;
- only an admin gives or takes away back-office access: staff cannot make anyone staff,
  and cannot change another staff member's or an admin's account at all (they may view it);
- nobody changes their own role, active flag or back-office flags (a second admin must).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from accounts.models import User

STAFF_GROUP_NAME = "Staff"

# app label -> model name -> actions
STAFF_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "user": ("view", "add", "change"),
        "coachprofile": ("view", "add", "change"),
        "connection": ("view", "add", "change", "delete"),
        "guardianlink": ("view", "add", "change", "delete"),
        "apitoken": ("view",),
        "subject": ("view", "add", "change", "delete"),
        "clienttag": ("view", "add", "change", "delete"),
        "clienttagging": ("view", "add", "change", "delete"),
    },
    "account": {"emailaddress": ("view", "add", "change")},
    "availability": {
        "availabilitywindow": ("view", "add", "change", "delete"),
        "dateoverride": ("view", "add", "change", "delete"),
        "overridewindow": ("view", "add", "change", "delete"),
        "timeoff": ("view", "add", "change", "delete"),
        "resource": ("view", "add", "change", "delete"),
        "resourcehours": ("view", "add", "change", "delete"),
        "resourceclosure": ("view", "add", "change", "delete"),
        "tagrule": ("view", "add", "change", "delete"),
        "allocation": ("view",),
    },
    "bookings": {
        "sessiontype": ("view", "add", "change"),
        "session": ("view", "change"),
        "booking": ("view", "change"),
        "bookingevent": ("view",),
        "plannedsession": ("view", "change", "delete"),
        "relayretry": ("view", "change"),
        "promocode": ("view", "add", "change", "delete"),
        "programme": ("view", "add", "change", "delete"),
        "enrollment": ("view", "add", "change"),
        "series": ("view",),
        "sessionmaterial": ("view", "delete"),
    },
    "notifications": {
        "notification": ("view",),
        "delivery": ("view",),
        "reminder": ("view",),
        "messagetemplate": ("view", "add", "change", "delete"),
        "notificationsettings": ("view",),
    },
    "payments": {
        "payment": ("view",),
        "refund": ("view",),
        "gatewayevent": ("view",),
        "package": ("view", "add", "change", "delete"),
        "creditentry": ("view",),
    },
    "waitlist": {
        "waitlistentry": ("view",),
        "waitlistoffer": ("view",),
        "waitlistmove": ("view",),
    },
    # Deliveries are sent again by an action that needs only the view permission.
    "webhooks": {
        "webhookendpoint": ("view", "change"),
        "webhookdelivery": ("view",),
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

    staff_group_with_its_permissions(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def staff_group_with_its_permissions(Group: Any, Permission: Any) -> None:
    """The Staff group, created if missing, with exactly the permissions above (which must
    exist: migrations create them first, a flush creates them again)."""
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


# --- who may change whose account, role and access ----------------------------------------

# accounts.models is imported inside the functions: the migrations import this module.

REFUSED_OWN_ACCESS = _("Nobody changes their own role or access; another admin must.")
REFUSED_PRIVILEGED = _("Only an admin can change the account, role or access of staff and admins.")
REFUSED_GIVE_STAFF = _("Only an admin can give someone the staff role.")


def has_back_office_access(user: User) -> bool:
    """Staff role, Django's ``is_staff`` flag or superuser: someone the back office lets in."""
    from accounts.models import Role

    return bool(user.is_superuser or user.is_staff or user.role == Role.STAFF)


def may_change_account(actor: User, target: User) -> bool:
    """Whether ``actor`` may change ``target``'s account in the back office at all (details,
    email addresses, password). Their own account, yes; roles and access are asked separately."""
    return bool(actor.is_superuser or actor.pk == target.pk or not has_back_office_access(target))


def roles_given_by(actor: User) -> tuple[str, ...]:
    """The roles ``actor`` may give someone."""
    from accounts.models import Role

    return tuple(Role.values) if actor.is_superuser else (Role.CLIENT, Role.COACH)


def access_change_refusal(actor: User, target: User, *, role: str | None = None) -> str | None:
    """Why ``actor`` may not change ``target``'s role or active flag (to ``role``, when given),
    or None when they may. ``target`` may be a new, unsaved account."""
    if target.pk is not None and actor.pk == target.pk:
        return str(REFUSED_OWN_ACCESS)
    if not may_change_account(actor, target):
        return str(REFUSED_PRIVILEGED)
    if role is not None and role not in roles_given_by(actor):
        return str(REFUSED_GIVE_STAFF)
    return None


def accounts_changeable_by(actor: User) -> QuerySet[User]:
    """The accounts ``actor`` may change (``may_change_account`` as a query), for the admin's
    choices of a person (whose email address, whose coach profile)."""
    from django.db.models import Q

    from accounts.models import Role, User

    if actor.is_superuser:
        return User.objects.all()
    without_access = Q(is_superuser=False, is_staff=False) & ~Q(role=Role.STAFF)
    return User.objects.filter(Q(pk=actor.pk) | without_access)
