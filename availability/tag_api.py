"""Client tags and their rules over JSON (``availability.tags`` does every read and write).

Coaches see their own tags and the practice's, and change their own; staff see and change
every tag. Clients and visitors see none: the list is empty, a tag is a 404. A tag carries
its rules: ``PATCH`` with ``rules`` replaces all of them (a rule with every field null or
empty is dropped), without ``rules`` leaves them as they are. ``PUT`` and ``DELETE`` on
``/tags/{id}/clients/{client_id}`` put the tag on a client and take it off; both can be
repeated.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from accounts.models import ClientTag, ClientTagging, Role, User
from availability import tags
from availability.models import TagRule
from config.errors import DomainError
from config.inputs import Input, NotBlank, optional

router = Router(tags=["client tags"])

Approval = Literal["", "always", "never"]


class TagRuleIn(Input):
    """One rule; a null number (or an empty approval) follows the usual rules."""

    session_type: int | None = Field(None, description="A session type of the tag's coach; null: every type.")
    approval: Approval = Field(
        "", description="`always`: every booking is a request; `never`: never needs approval; empty: the usual."
    )
    minimum_notice_hours: int | None = Field(None, ge=0, le=24 * 30)
    booking_window_days: int | None = Field(None, ge=1, le=365)
    max_per_day: int | None = Field(None, ge=1, le=48)
    max_per_week: int | None = Field(None, ge=1, le=200)
    price_adjustment_percent: int | None = Field(
        None, ge=-100, le=100, description="For example -20 for a discount; applied when payments are on."
    )
    waitlist_priority: int | None = Field(None, ge=0, le=100, description="Points added on a waitlist.")


class TagRuleOut(Schema):
    session_type: int | None
    approval: str
    minimum_notice_hours: int | None
    booking_window_days: int | None
    max_per_day: int | None
    max_per_week: int | None
    price_adjustment_percent: int | None
    waitlist_priority: int | None
    summary: str = Field(description="The rule in plain words.")


class TagIn(Input):
    name: NotBlank = Field(max_length=tags.NAME_LIMIT)
    description: str = Field("", max_length=tags.DESCRIPTION_LIMIT)
    priority: int = Field(0, ge=0, le=100, description="When tags' rules disagree, the highest priority decides.")
    coach: int | None = Field(
        None,
        description="Whose tag: a coach's own tags are theirs (leave it out); staff name a coach, "
        "or leave it out for a tag of the whole practice.",
    )
    rules: list[TagRuleIn] = Field(default_factory=list)


class TagPatch(Input):
    """Only the parts sent change; none can be null. ``rules`` replaces all the rules."""

    name: NotBlank = optional(max_length=tags.NAME_LIMIT)
    description: str = optional(max_length=tags.DESCRIPTION_LIMIT)
    priority: int = optional(ge=0, le=100)
    rules: list[TagRuleIn] = optional()


class TagOut(Schema):
    id: int
    name: str
    description: str
    priority: int
    coach: int | None = Field(description="null: a tag of the whole practice.")
    can_manage: bool = Field(description="Whether you may change it and who wears it.")
    client_count: int
    rules: list[TagRuleOut]


class TaggingOut(Schema):
    tag: int
    client: int
    added_by: int | None
    added_at: str


def rule_out(rule: TagRule) -> TagRuleOut:
    return TagRuleOut(
        session_type=rule.session_type_id,
        summary=tags.describe_rule(rule),
        **{name: getattr(rule, name) for name in tags.RULE_FIELDS},
    )


def tag_out(tag: ClientTag, user: User) -> TagOut:
    count = getattr(tag, "client_count", None)
    return TagOut(
        id=tag.pk,
        name=tag.name,
        description=tag.description,
        priority=tag.priority,
        coach=tag.coach_id,
        can_manage=tags.can_manage_tag(user, tag),
        client_count=tag.taggings.count() if count is None else count,
        rules=[rule_out(rule) for rule in tags.rules_of(tag)],
    )


def _specs(rules: list[TagRuleIn]) -> list[tags.RuleSpec]:
    return [tags.spec_from_mapping(rule.dict()) for rule in rules]


def _coach_of(user: User, coach_id: int | None) -> User | None:
    if coach_id is None:
        return None if user.is_staff_member else user
    coach = User.objects.filter(pk=coach_id, role=Role.COACH).first()
    if coach is None:
        raise DomainError(_("There is no coach with that id."), code="not_found", status=404, field="coach")
    return coach


@router.get("/tags", response=list[TagOut], summary="The client tags you may see")
def list_tags(request: HttpRequest) -> list[TagOut]:
    """A coach's own tags and the practice's; every tag for staff; none for anyone else."""
    user = request.auth
    return [tag_out(tag, user) for tag in tags.tags_visible_to(user)]


@router.post("/tags", response={201: TagOut}, summary="Create a client tag with its rules")
def create_tag(request: HttpRequest, payload: TagIn) -> Status:
    user = request.auth
    tag = tags.create_tag(
        actor=user,
        coach=_coach_of(user, payload.coach),
        name=payload.name,
        description=payload.description,
        priority=payload.priority,
        rules=_specs(payload.rules),
    )
    return Status(201, tag_out(tag, user))


@router.get("/tags/{tag_id}", response=TagOut, summary="A client tag and its rules")
def get_tag(request: HttpRequest, tag_id: int) -> TagOut:
    return tag_out(tags.get_tag_for(request.auth, tag_id), request.auth)


@router.patch("/tags/{tag_id}", response=TagOut, summary="Rename a client tag or change its rules")
def patch_tag(request: HttpRequest, tag_id: int, payload: TagPatch) -> TagOut:
    user = request.auth
    tag = tags.get_tag_for(user, tag_id)
    changes = payload.dict(exclude_unset=True)
    tags.update_tag(
        actor=user,
        tag=tag,
        name=changes.get("name"),
        description=changes.get("description"),
        priority=changes.get("priority"),
        rules=_specs(payload.rules) if "rules" in changes else None,
    )
    return tag_out(tags.get_tag_for(user, tag_id), user)


@router.delete("/tags/{tag_id}", response={204: None}, summary="Delete a client tag and its rules")
def delete_tag(request: HttpRequest, tag_id: int) -> Status:
    user = request.auth
    tags.delete_tag(actor=user, tag=tags.get_tag_for(user, tag_id))
    return Status(204, None)


def tagging_out(tagging: ClientTagging) -> TaggingOut:
    return TaggingOut(
        tag=tagging.tag_id,
        client=tagging.client_id,
        added_by=tagging.added_by_id,
        added_at=tagging.added_at.isoformat(),
    )


@router.put("/tags/{tag_id}/clients/{client_id}", response=TaggingOut, summary="Put a tag on a client (repeatable)")
def put_tagging(request: HttpRequest, tag_id: int, client_id: int) -> TaggingOut:
    """A coach tags clients connected to them or who have booked with them; staff any client."""
    user = request.auth
    tag = tags.get_tag_for(user, tag_id)
    client = tags.client_for_tagging(user, tag, client_id)
    tagging, _created = tags.tag_client(actor=user, tag=tag, client=client)
    return tagging_out(tagging)


@router.delete(
    "/tags/{tag_id}/clients/{client_id}", response={204: None}, summary="Take a tag off a client (repeatable)"
)
def delete_tagging(request: HttpRequest, tag_id: int, client_id: int) -> Status:
    user = request.auth
    tag = tags.get_tag_for(user, tag_id)
    client = tags.client_for_tagging(user, tag, client_id)
    tags.untag_client(actor=user, tag=tag, client=client)
    return Status(204, None)
