"""Client tags and their booking rules: who may manage which tag, the writes (create, rename,
delete a tag, set its rules, tag and untag a client) and the reads that pages, the API and
the booking rules share.

A tag belongs to a coach (``ClientTag.coach``) or, with no coach, to the whole practice
(made by staff). ``can_manage_tag`` is the one answer to "may this person change this tag,
its rules and who wears it": the tag's coach for their own tags, back-office staff and
admins for every tag. Coaches see the practice-wide tags (they apply to their clients'
bookings) but do not change them.

A coach tags only clients connected to them (accepted) or who have booked with them;
staff tag any active client. Tagging and untagging are idempotent.

A tag's rules (``availability.models.TagRule``) are one for "every session type" and one
per session type; a blank field follows the usual rules (the type's, then the coach's). For
a coach's tag a session type must be that coach's own. ``set_tag_rules`` replaces the whole
set at once, or nothing if any part is refused. The resolution of the rules when a client
books is ``availability.rules.rules_for`` (its input read by
``availability.selectors.tag_rules_for``).

Every refusal is a ``DomainError`` naming its input (``field``), so the API lists it under
``fields`` and a form shows it beside that field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import ClientTag, ClientTagging, Connection, ConnectionStatus, Role, User
from availability.models import TagRule
from config.errors import DomainError, NotAllowed
from config.inputs import check_text

NAME_LIMIT = 40
DESCRIPTION_LIMIT = 200
PRIORITY_RANGE = (0, 100)

APPROVAL_CHOICES = ("", "always", "never")

# The number fields of a rule, their bounds (inclusive) and how a value reads in a sentence.
RULE_BOUNDS: dict[str, tuple[int, int]] = {
    "minimum_notice_hours": (0, 24 * 30),
    "booking_window_days": (1, 365),
    "max_per_day": (1, 48),
    "max_per_week": (1, 200),
    "price_adjustment_percent": (-100, 100),
    "waitlist_priority": (0, 100),
}
RULE_LABELS = {
    "approval": gettext_lazy("Approval"),
    "minimum_notice_hours": gettext_lazy("Minimum notice (hours)"),
    "booking_window_days": gettext_lazy("Booking window (days)"),
    "max_per_day": gettext_lazy("Most sessions a day"),
    "max_per_week": gettext_lazy("Most sessions a week"),
    "price_adjustment_percent": gettext_lazy("Price adjustment (%)"),
    "waitlist_priority": gettext_lazy("Waitlist priority bonus"),
}
RULE_FIELDS = ("approval", *RULE_BOUNDS)


def _refuse(field: str, message: str, *, code: str = "invalid", status: int = 400) -> DomainError:
    return DomainError(message, code=code, status=status, field=field)


# ---------------------------------------------------------------------------------------
# Who may do what
# ---------------------------------------------------------------------------------------


def manages_tags(user: User) -> bool:
    """Coaches (their own tags) and staff (every tag) manage client tags; nobody else."""
    return bool(user.is_authenticated and (user.is_staff_member or user.role == Role.COACH))


def can_manage_tag(user: User, tag: ClientTag) -> bool:
    """Whether ``user`` may rename or delete ``tag``, set its rules and put it on or take it
    off clients: back-office staff and admins for every tag (a coach's or the practice's),
    a coach for their own tags only."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff_member:
        return True
    return user.role == Role.COACH and tag.coach_id is not None and tag.coach_id == user.pk


def _require_manager(actor: User, tag: ClientTag) -> None:
    if not can_manage_tag(actor, tag):
        if tag.coach_id is None:
            raise NotAllowed(_("Only back-office staff can change the practice's tags."))
        raise NotAllowed(_("Only the tag's coach or back-office staff can change this tag."))


# ---------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------


def tags_visible_to(user: User) -> QuerySet[ClientTag]:
    """The tags ``user`` may see: every tag for staff; a coach's own and the practice's for a
    coach; none for anyone else. With each tag's coach and ``client_count``."""
    tags = ClientTag.objects.select_related("coach").annotate(client_count=Count("taggings", distinct=True))
    if not user.is_authenticated:
        return tags.none()
    if user.is_staff_member:
        return tags
    if user.role == Role.COACH:
        return tags.filter(Q(coach=user) | Q(coach__isnull=True))
    return tags.none()


def tags_of(client: User, coach: User) -> QuerySet[ClientTag]:
    """The tags that apply when ``client`` books ``coach``: those of the coach's own tags and
    of the practice's that the client wears."""
    return ClientTag.objects.filter(Q(coach=coach) | Q(coach__isnull=True), taggings__client=client).distinct()


def clients_of_coach(coach: User) -> QuerySet[User]:
    """Active clients connected to ``coach`` (accepted) or who have booked with them."""
    connected = Connection.objects.filter(coach=coach, status=ConnectionStatus.ACCEPTED).values("client")
    return (
        User.objects.filter(role=Role.CLIENT, is_active=True, is_superuser=False)
        .filter(Q(pk__in=connected) | Q(bookings__session__coach=coach))
        .distinct()
    )


def taggable_clients(actor: User, tag: ClientTag) -> QuerySet[User]:
    """The clients ``actor`` may put ``tag`` on: every active client for staff; for the tag's
    coach, their clients (``clients_of_coach``); nobody for anyone else."""
    clients = User.objects.filter(role=Role.CLIENT, is_active=True, is_superuser=False)
    if not can_manage_tag(actor, tag):
        return clients.none()
    if actor.is_staff_member:
        return clients
    return clients_of_coach(actor)


def wearers(tag: ClientTag) -> QuerySet[User]:
    """The clients wearing ``tag``, by name."""
    return User.objects.filter(taggings__tag=tag).order_by("name", "email")


def client_for_tagging(actor: User, tag: ClientTag, client_id: int) -> User:
    """The client ``client_id`` names, when ``actor`` may tag them with ``tag`` or they wear it
    already (so a coach can take a tag off a client who is no longer connected); otherwise a
    404 — a coach does not learn who the other clients are. A 403 when ``actor`` may not
    change who wears the tag."""
    _require_manager(actor, tag)
    client = taggable_clients(actor, tag).filter(pk=client_id).first() or wearers(tag).filter(pk=client_id).first()
    if client is None:
        raise DomainError(_("No client of yours has that id."), code="not_found", status=404)
    return client


def get_tag_for(user: User, pk: int) -> ClientTag:
    """The tag ``pk`` when ``user`` may see it; a 404 otherwise."""
    tag = tags_visible_to(user).filter(pk=pk).first()
    if tag is None:
        raise DomainError(_("No tag of yours has that id."), code="not_found", status=404)
    return tag


def session_types_for_rules(tag: ClientTag) -> QuerySet[Any]:
    """The session types a rule of ``tag`` may name: the tag's coach's, or every coach's for
    a tag of the practice (``bookings.SessionType``, read through the rule's relation so the
    scheduling core does not import the layer above it)."""
    session_types = TagRule._meta.get_field("session_type").related_model._default_manager.all()
    session_types = session_types.select_related("coach")
    return session_types.filter(coach_id=tag.coach_id) if tag.coach_id is not None else session_types


# ---------------------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------------------


def _clean_name(name: str, *, coach_id: int | None, exclude: int | None = None) -> str:
    if not isinstance(name, str):
        raise _refuse("name", _("Give the tag a name."))
    name = " ".join(name.split())
    if not name:
        raise _refuse("name", _("Give the tag a name."))
    check_text(name, NAME_LIMIT, field="name")
    same = ClientTag.objects.filter(name__iexact=name)
    same = same.filter(coach_id=coach_id) if coach_id is not None else same.filter(coach__isnull=True)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        if coach_id is None:
            raise _refuse("name", _("The practice already has a tag named “%(name)s”.") % {"name": name})
        raise _refuse("name", _("There is already a tag named “%(name)s”.") % {"name": name})
    return name


def _clean_description(description: str) -> str:
    if not isinstance(description, str):
        raise _refuse("description", _("Give the description as text."))
    return check_text(description.strip(), DESCRIPTION_LIMIT, field="description")


def _clean_priority(priority: Any) -> int:
    low, high = PRIORITY_RANGE
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise _refuse("priority", _("Give the priority as a whole number."))
    if not low <= priority <= high:
        raise _refuse("priority", _("The priority must be between %(low)s and %(high)s.") % {"low": low, "high": high})
    return priority


def _name_taken(name: str) -> DomainError:
    return _refuse("name", _("There is already a tag named “%(name)s”.") % {"name": name})


def create_tag(
    *,
    actor: User,
    coach: User | None,
    name: str,
    description: str = "",
    priority: int = 0,
    rules: Iterable[RuleSpec] = (),
) -> ClientTag:
    """A new tag of ``coach`` (the actor themself, or any coach for staff) or, with no coach,
    of the whole practice (staff only), with its ``rules``: all of it, or nothing."""
    if not manages_tags(actor):
        raise NotAllowed(_("Only coaches and back-office staff make client tags."))
    if coach is None:
        if not actor.is_staff_member:
            raise NotAllowed(_("Only back-office staff can make tags for the whole practice."))
    else:
        if coach.role != Role.COACH:
            raise DomainError(_("That person is not a coach."), code="not_a_coach", field="coach")
        if not (actor.is_staff_member or (actor.role == Role.COACH and actor.pk == coach.pk)):
            raise NotAllowed(_("You can only make tags of your own."))
    coach_id = coach.pk if coach is not None else None
    tag = ClientTag(
        coach=coach,
        name=_clean_name(name, coach_id=coach_id),
        description=_clean_description(description),
        priority=_clean_priority(priority),
    )
    specs = check_rules(tag, rules)
    try:
        with transaction.atomic():
            tag.save()
            _write_rules(tag, specs)
    except IntegrityError:
        tag.pk = None
        raise _name_taken(tag.name) from None
    return tag


def update_tag(
    *,
    actor: User,
    tag: ClientTag,
    name: str | None = None,
    description: str | None = None,
    priority: int | None = None,
    rules: Iterable[RuleSpec] | None = None,
) -> ClientTag:
    """Rename a tag, change its description or priority, and (``rules`` given) replace its
    rules; None leaves a part as it is. All of it, or nothing."""
    _require_manager(actor, tag)
    changed = []
    if name is not None:
        tag.name = _clean_name(name, coach_id=tag.coach_id, exclude=tag.pk)
        changed.append("name")
    if description is not None:
        tag.description = _clean_description(description)
        changed.append("description")
    if priority is not None:
        tag.priority = _clean_priority(priority)
        changed.append("priority")
    specs = None if rules is None else check_rules(tag, rules)
    try:
        with transaction.atomic():
            # Two editors saving at once: one after the other, each change whole.
            ClientTag.objects.select_for_update().filter(pk=tag.pk).first()
            if changed:
                tag.save(update_fields=changed)
            if specs is not None:
                _write_rules(tag, specs)
    except IntegrityError:
        wanted = tag.name
        tag.refresh_from_db()
        raise _name_taken(wanted) from None
    return tag


def delete_tag(*, actor: User, tag: ClientTag) -> None:
    """Delete a tag with its rules; the clients who wore it simply no longer do."""
    _require_manager(actor, tag)
    tag.delete()


# ---------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RuleSpec:
    """One rule as written: for ``session_type_id`` (None: every session type). A blank
    field (``""`` approval, None numbers) follows the usual rules; a rule with every field
    blank is no rule."""

    session_type_id: int | None = None
    approval: str = ""
    minimum_notice_hours: int | None = None
    booking_window_days: int | None = None
    max_per_day: int | None = None
    max_per_week: int | None = None
    price_adjustment_percent: int | None = None
    waitlist_priority: int | None = None

    @property
    def is_blank(self) -> bool:
        return not self.approval and all(getattr(self, name) is None for name in RULE_BOUNDS)

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in RULE_FIELDS}

    @classmethod
    def of(cls, rule: TagRule) -> RuleSpec:
        return cls(session_type_id=rule.session_type_id, **{name: getattr(rule, name) for name in RULE_FIELDS})


SPEC_FIELDS = tuple(f.name for f in fields(RuleSpec))


def range_message(name: str) -> str:
    """The refusal of a rule's number out of its range ("… must be between 0 and 720.")."""
    low, high = RULE_BOUNDS[name]
    return _("%(field)s must be between %(low)s and %(high)s.") % {"field": RULE_LABELS[name], "low": low, "high": high}


def _check_rule(spec: RuleSpec, prefix: str) -> None:
    if spec.approval not in APPROVAL_CHOICES:
        raise _refuse(
            f"{prefix}approval",
            _("Approval is “always” (every booking is a request), “never” (never needs approval) or empty."),
        )
    for name, (low, high) in RULE_BOUNDS.items():
        value = getattr(spec, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise _refuse(f"{prefix}{name}", _("Give %(field)s as a whole number.") % {"field": RULE_LABELS[name]})
        if not low <= value <= high:
            raise _refuse(f"{prefix}{name}", range_message(name))
    if spec.max_per_day is not None and spec.max_per_week is not None and spec.max_per_week < spec.max_per_day:
        raise _refuse(f"{prefix}max_per_week", _("The weekly limit cannot be lower than the daily limit."))


def check_rules(tag: ClientTag, specs: Iterable[RuleSpec], *, field_prefix: str = "rules") -> list[RuleSpec]:
    """The rules refused (a ``DomainError`` naming ``rules.<index>.<field>``) unless every
    value is in its range, each session type appears once and, for a coach's tag, is one of
    that coach's; returns them in order."""
    specs = list(specs)
    seen: set[int | None] = set()
    # Ids no row can have (a database integer is 64 bits) are unknown without asking.
    wanted_types = {
        spec.session_type_id
        for spec in specs
        if isinstance(spec.session_type_id, int) and 0 < spec.session_type_id < 2**63
    }
    known = set(session_types_for_rules(tag).filter(pk__in=wanted_types).values_list("pk", flat=True))
    for index, spec in enumerate(specs):
        prefix = f"{field_prefix}.{index}." if field_prefix else ""
        type_id = spec.session_type_id
        if type_id is not None and (isinstance(type_id, bool) or type_id not in known):
            if tag.coach_id is not None:
                message = _("A rule of this tag can name only a session type of the tag's coach.")
            else:
                message = _("There is no session type with that id.")
            raise _refuse(f"{prefix}session_type", message, code="unknown_session_type")
        if type_id in seen:
            message = (
                _("There is already a rule for every session type.")
                if type_id is None
                else _("There is already a rule for this session type.")
            )
            raise _refuse(f"{prefix}session_type", message)
        seen.add(type_id)
        _check_rule(spec, prefix)
    return specs


def set_tag_rules(*, actor: User, tag: ClientTag, rules: Iterable[RuleSpec]) -> list[TagRule]:
    """Replace the rules of ``tag`` with ``rules`` (a blank one is dropped), all or nothing.
    Returns the rules kept, "every type" first."""
    update_tag(actor=actor, tag=tag, rules=rules)
    return rules_of(tag)


def _write_rules(tag: ClientTag, specs: list[RuleSpec]) -> None:
    """Make the tag's rules ``specs`` (checked), inside the caller's transaction."""
    existing = {rule.session_type_id: rule for rule in TagRule.objects.filter(tag=tag)}
    keep = {spec.session_type_id: spec for spec in specs if not spec.is_blank}
    gone = [rule.pk for type_id, rule in existing.items() if type_id not in keep]
    if gone:
        TagRule.objects.filter(pk__in=gone).delete()
    for type_id, spec in keep.items():
        rule = existing.get(type_id)
        if rule is None:
            TagRule.objects.create(tag=tag, session_type_id=type_id, **spec.values())
        elif RuleSpec.of(rule) != spec:
            for name, value in spec.values().items():
                setattr(rule, name, value)
            rule.save(update_fields=list(RULE_FIELDS))


def _rule_order(rule: TagRule) -> tuple[Any, ...]:
    st = rule.session_type
    return (st is not None, st.coach.display_name if st else "", st.position if st else 0, rule.session_type_id or 0)


def rules_of(tag: ClientTag) -> list[TagRule]:
    """The tag's rules, the one for every session type first, then by coach and the types' order."""
    return sorted(TagRule.objects.filter(tag=tag).select_related("session_type__coach"), key=_rule_order)


def with_rules(tag_list: Iterable[ClientTag]) -> list[ClientTag]:
    """The tags, each with ``rule_list`` (ordered as ``rules_of``) and ``rule_lines`` (each
    rule in plain words), read in one query."""
    found = list(tag_list)
    by_tag: dict[int, list[TagRule]] = {tag.pk: [] for tag in found}
    for rule in TagRule.objects.filter(tag__in=[tag.pk for tag in found]).select_related("session_type__coach"):
        by_tag[rule.tag_id].append(rule)
    for tag in found:
        tag.rule_list = sorted(by_tag[tag.pk], key=_rule_order)
        tag.rule_lines = [describe_rule(rule) for rule in tag.rule_list]
    return found


def spec_from_mapping(values: Mapping[str, Any]) -> RuleSpec:
    """A ``RuleSpec`` from a mapping with ``session_type`` (or ``session_type_id``) and the
    rule's fields; missing fields are blank."""
    data = {name: values[name] for name in RULE_FIELDS if name in values}
    if data.get("approval") is None:
        data["approval"] = ""
    type_id = values.get("session_type_id", values.get("session_type"))
    return RuleSpec(session_type_id=type_id, **data)


# ---------------------------------------------------------------------------------------
# Rules in plain words
# ---------------------------------------------------------------------------------------


def _hours(value: int) -> str:
    if value and value % 24 == 0:
        days = value // 24
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    return _("%(n)s h") % {"n": value}


def rule_phrases(rule: TagRule | RuleSpec) -> list[str]:
    """What a rule sets, each in a few words ("never needs approval", "notice 2 h")."""
    phrases = []
    if rule.approval == "never":
        phrases.append(_("never needs approval"))
    elif rule.approval == "always":
        phrases.append(_("every booking is a request"))
    if rule.minimum_notice_hours is not None:
        phrases.append(_("notice %(time)s") % {"time": _hours(rule.minimum_notice_hours)})
    if rule.booking_window_days is not None:
        days = rule.booking_window_days
        phrases.append(ngettext("books up to %(n)s day ahead", "books up to %(n)s days ahead", days) % {"n": days})
    if rule.max_per_day is not None:
        phrases.append(_("at most %(n)s a day") % {"n": rule.max_per_day})
    if rule.max_per_week is not None:
        phrases.append(_("at most %(n)s a week") % {"n": rule.max_per_week})
    if rule.price_adjustment_percent is not None:
        phrases.append(_("price %(sign)s%(n)s %%") % _signed(rule.price_adjustment_percent))
    if rule.waitlist_priority is not None:
        phrases.append(_("waitlist +%(n)s") % {"n": rule.waitlist_priority})
    return phrases


def _signed(value: int) -> dict[str, Any]:
    return {"sign": "+" if value > 0 else "−" if value < 0 else "", "n": abs(value)}


def describe_rule(rule: TagRule) -> str:
    """A rule in one line: "every type: never needs approval; notice 2 h"."""
    scope = rule.session_type.title if rule.session_type is not None else _("every type")
    phrases = rule_phrases(rule) or [_("follows the usual rules")]
    return _("%(scope)s: %(rules)s") % {"scope": scope, "rules": "; ".join(phrases)}


def describe_rules(tag: ClientTag, rules: Iterable[TagRule] | None = None) -> list[str]:
    """Each rule of ``tag`` in one line, the one for every type first."""
    return [describe_rule(rule) for rule in (rules_of(tag) if rules is None else rules)]


# ---------------------------------------------------------------------------------------
# Who wears a tag
# ---------------------------------------------------------------------------------------


def _check_client(actor: User, tag: ClientTag, client: User) -> None:
    if client.role != Role.CLIENT or client.is_superuser or not client.is_active:
        raise DomainError(_("Only active client accounts can wear tags."), code="not_a_client", field="client")
    if actor.is_staff_member:
        return
    if not clients_of_coach(actor).filter(pk=client.pk).exists():
        raise NotAllowed(
            _("You can tag only clients connected to you or who have booked with you."), code="not_connected"
        )


def tag_client(*, actor: User, tag: ClientTag, client: User) -> tuple[ClientTagging, bool]:
    """Put ``tag`` on ``client`` (nothing changes if they wear it already). Returns the
    tagging and whether it is new."""
    _require_manager(actor, tag)
    _check_client(actor, tag, client)
    try:
        with transaction.atomic():
            return ClientTagging.objects.get_or_create(tag=tag, client=client, defaults={"added_by": actor})
    except IntegrityError:  # put on at the same moment by someone else
        return ClientTagging.objects.get(tag=tag, client=client), False


def untag_client(*, actor: User, tag: ClientTag, client: User) -> bool:
    """Take ``tag`` off ``client`` (nothing changes if they don't wear it). Returns whether
    it was on. A coach may take their tag off any client wearing it."""
    _require_manager(actor, tag)
    deleted, _counts = ClientTagging.objects.filter(tag=tag, client=client).delete()
    return bool(deleted)
