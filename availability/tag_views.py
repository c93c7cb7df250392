"""Client tags in the browser, for coaches (their own tags) and staff (the practice's and
every coach's): the list with each tag's rules in plain words and how many clients wear it,
a form for a tag and its rules (a row for every session type, one per session type), a
delete step, and the tag's clients (put it on and take it off). ``client_tag_assign`` puts a
tag on, or takes it off, from the coach's clients page (``accounts.views.connections``).

Views parse, authorize and render; every write goes through ``availability.tags``. A tag
you may not see is a 404; one you may see but not change (a coach and a practice tag) a 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import ClientTag, Role, User
from availability import tags
from availability.tag_forms import AssignForm, RuleForm, TagForm
from config.errors import DomainError, NotAllowed

SEARCH_LIMIT = 20


def _visible_tag(request: HttpRequest, pk: int) -> ClientTag:
    try:
        return tags.get_tag_for(request.user, pk)
    except DomainError as error:
        raise Http404(error.message) from error


def _managed_tag(request: HttpRequest, pk: int) -> ClientTag:
    tag = _visible_tag(request, pk)
    if not tags.can_manage_tag(request.user, tag):
        raise PermissionDenied(_("Only back-office staff can change the practice's tags."))
    return tag


def _status(error: DomainError) -> int:
    return error.status if 400 <= error.status < 500 else 400


def _next_or(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(next_url, status=303)
    return HttpResponseRedirect(fallback, status=303)


# ---------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------


@role_required(Role.COACH, Role.STAFF)
def tag_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    visible = tags.with_rules(tags.tags_visible_to(user).order_by("-priority", "name"))
    practice = [tag for tag in visible if tag.coach_id is None]
    own = [tag for tag in visible if tag.coach_id is not None and tag.coach_id == user.pk]
    coaches: dict[int, dict[str, Any]] = {}
    if user.is_staff_member:
        for tag in visible:
            if tag.coach_id is not None and tag.coach_id != user.pk:
                coaches.setdefault(tag.coach_id, {"coach": tag.coach, "tags": []})["tags"].append(tag)
    for tag in visible:
        tag.manageable = tags.can_manage_tag(user, tag)
    return render(
        request,
        "availability/tags/list.html",
        {
            "own": own,
            "practice": practice,
            "by_coach": sorted(coaches.values(), key=lambda group: group["coach"].display_name.lower()),
            "is_coach": user.role == Role.COACH,
        },
    )


# ---------------------------------------------------------------------------------------
# A tag and its rules
# ---------------------------------------------------------------------------------------


def _usual(profile: Any, session_type: Any = None) -> dict[str, Any]:
    """What applies when a rule's field is blank, for a coach's tag (the placeholders)."""
    if profile is None:
        return {}

    def pick(own: int | None, default: int) -> int:
        return default if own is None else own

    return {
        "minimum_notice_hours": pick(getattr(session_type, "minimum_notice_hours", None), profile.minimum_notice_hours),
        "booking_window_days": pick(getattr(session_type, "booking_window_days", None), profile.booking_window_days),
        "max_per_day": profile.max_sessions_per_day,
        "max_per_week": profile.max_sessions_per_week,
    }


def _rule_initial(rule: Any) -> dict[str, Any]:
    if rule is None:
        return {}
    return {name: getattr(rule, name) for name in tags.RULE_FIELDS}


def _rule_forms(request: HttpRequest, tag: ClientTag | None, coach: User | None) -> list[RuleForm]:
    """The rows of the rules: every session type, then one per session type of the tag's
    coach (their archived types only when a rule names them); a practice tag has a row per
    type a rule names and one more to add a rule for another type."""
    data = request.POST if request.method == "POST" else None
    existing = {rule.session_type_id: rule for rule in (tags.rules_of(tag) if tag is not None else [])}
    profile = getattr(coach, "coach_profile", None) if coach is not None else None
    rows = [
        RuleForm(
            data,
            prefix="rule-all",
            title=_("Every session type"),
            session_type_id=None,
            initial=_rule_initial(existing.get(None)),
            usual=_usual(profile),
        )
    ]
    probe = tag if tag is not None else ClientTag(coach=coach)
    choices = tags.session_types_for_rules(probe)
    if coach is not None:
        types = [st for st in choices.order_by("position", "pk") if st.is_active or st.pk in existing]
    else:
        types = [rule.session_type for type_id, rule in existing.items() if type_id is not None]
    every_type = {
        name: getattr(existing[None], name)
        for name in tags.RULE_BOUNDS
        if None in existing and getattr(existing[None], name) is not None
    }
    for st in types:
        title = st.title if coach is not None else f"{st.coach.display_name} · {st.title}"
        rows.append(
            RuleForm(
                data,
                prefix=f"rule-{st.pk}",
                title=title + ("" if st.is_active else " " + _("(archived)")),
                session_type_id=st.pk,
                initial=_rule_initial(existing.get(st.pk)),
                usual={**_usual(profile, st), **every_type},
            )
        )
    if coach is None:
        rows.append(
            RuleForm(
                data,
                prefix="rule-new",
                title=_("Another session type"),
                session_type_id=None,
                session_types=choices.filter(is_active=True)
                .exclude(pk__in=[pk for pk in existing if pk is not None])
                .order_by("coach__name", "position", "pk"),
            )
        )
    return rows


def _show_refusal(error: DomainError, form: TagForm, rows: list[RuleForm], order: list[RuleForm]) -> None:
    """Put a service's refusal beside its field: ``rules.<index>.<name>`` on that rule's
    row (``order`` is the rows in the order their rules were sent), the rest on the tag."""
    parts = error.field.split(".")
    if len(parts) == 3 and parts[0] == "rules" and parts[1].isdigit() and int(parts[1]) < len(order):
        order[int(parts[1])].show_refusal(parts[2], error.message)
    else:
        form.show_refusal(error.field, error.message)


def _owner(request: HttpRequest) -> tuple[User | None, str | None]:
    """Whose tag staff are making (``?for=<coach id>``; none or ``practice``: the whole
    practice), and a notice when ``for`` names no coach."""
    raw = request.GET.get("for", "")
    if raw in ("", "practice"):
        return None, None
    found = raw.isascii() and raw.isdigit() and len(raw) < 19
    coach = User.objects.filter(pk=int(raw), role=Role.COACH).first() if found else None
    if coach is None:
        return None, _("That coach wasn't found: this is a tag of the whole practice.")
    return coach, None


def _editor(request: HttpRequest, tag: ClientTag | None) -> HttpResponse:
    user = request.user
    creating = tag is None
    data = request.POST if request.method == "POST" else None
    if creating:
        form = TagForm(data, initial={"priority": 0})
    else:
        form = TagForm(data, initial={"name": tag.name, "description": tag.description, "priority": tag.priority})
    coach: User | None
    notice = None
    if not creating:
        coach = tag.coach
    elif user.is_staff_member:
        coach, notice = _owner(request)
    else:
        coach = user
    rows = _rule_forms(request, tag, coach)
    status = 200
    if data is not None:
        valid = form.is_valid() & all([row.is_valid() for row in rows])
        if valid:
            order = [row for row in rows if row.spec() is not None]
            specs = [row.spec() for row in order]
            try:
                if creating:
                    saved = tags.create_tag(
                        actor=user,
                        coach=coach,
                        name=form.cleaned_data["name"],
                        description=form.cleaned_data["description"],
                        priority=form.cleaned_data["priority"],
                        rules=specs,
                    )
                    messages.success(request, _("The tag “%(name)s” is created.") % {"name": saved.name})
                else:
                    saved = tags.update_tag(
                        actor=user,
                        tag=tag,
                        name=form.cleaned_data["name"],
                        description=form.cleaned_data["description"],
                        priority=form.cleaned_data["priority"],
                        rules=specs,
                    )
                    messages.success(request, _("The tag “%(name)s” is saved.") % {"name": saved.name})
            except NotAllowed as refusal:
                raise PermissionDenied(refusal.message) from refusal
            except DomainError as refusal:
                _show_refusal(refusal, form, rows, order)
                status = _status(refusal)
            else:
                return HttpResponseRedirect(f"{reverse('client_tags')}#tag-{saved.pk}", status=303)
        else:
            status = 400
    return render(
        request,
        "availability/tags/form.html",
        {
            "form": form,
            "rows": rows,
            "has_errors": bool(form.errors) or any(row.errors for row in rows),
            "tag": tag,
            "creating": creating,
            "coach": coach,
            "notice": notice,
            "choose_owner": creating and user.is_staff_member,
            "coaches": User.objects.filter(role=Role.COACH, is_active=True).order_by("name", "email")
            if creating and user.is_staff_member
            else [],
        },
        status=status,
    )


@role_required(Role.COACH, Role.STAFF)
def tag_create(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@role_required(Role.COACH, Role.STAFF)
def tag_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, _managed_tag(request, pk))


@role_required(Role.COACH, Role.STAFF)
def tag_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirm step (GET), then the deletion (POST)."""
    tag = _managed_tag(request, pk)
    if request.method == "POST":
        name = tag.name
        tags.delete_tag(actor=request.user, tag=tag)
        messages.success(request, _("The tag “%(name)s” is deleted.") % {"name": name})
        return HttpResponseRedirect(reverse("client_tags"), status=303)
    return render(
        request,
        "availability/tags/delete.html",
        {"tag": tag, "client_count": tag.client_count, "rule_lines": tags.describe_rules(tag)},
    )


# ---------------------------------------------------------------------------------------
# Who wears a tag
# ---------------------------------------------------------------------------------------


def _assign(request: HttpRequest, tag: ClientTag, form: AssignForm) -> DomainError | None:
    """Put the tag on, or take it off, the form's client; the refusal to show, or None."""
    try:
        client = tags.client_for_tagging(request.user, tag, form.cleaned_data["client"])
        if form.cleaned_data["action"] == "add":
            _tagging, created = tags.tag_client(actor=request.user, tag=tag, client=client)
            text = _("%(client)s now wears “%(tag)s”.") if created else _("%(client)s already wears “%(tag)s”.")
        else:
            removed = tags.untag_client(actor=request.user, tag=tag, client=client)
            text = _("“%(tag)s” is taken off %(client)s.") if removed else _("%(client)s doesn't wear “%(tag)s”.")
    except NotAllowed as refusal:
        raise PermissionDenied(refusal.message) from refusal
    except DomainError as refusal:
        return refusal
    messages.success(request, text % {"client": client.display_name, "tag": tag.name})
    return None


@role_required(Role.COACH, Role.STAFF)
def tag_clients(request: HttpRequest, pk: int) -> HttpResponse:
    """The clients wearing the tag (each with Remove) and a way to add one: a coach picks
    among their clients, staff search every client by name or email."""
    tag = _managed_tag(request, pk)
    url = reverse("client_tag_clients", args=[tag.pk])
    error = None
    status = 200
    if request.method == "POST":
        form = AssignForm(request.POST)
        if not form.is_valid():
            error, status = _("Choose a client."), 400
        else:
            refusal = _assign(request, tag, form)
            if refusal is None:
                return _next_or(request, url)
            error, status = refusal.message, _status(refusal)
    wearing = list(tags.wearers(tag))
    worn_ids = {client.pk for client in wearing}
    query = (request.GET.get("q") or "").replace("\x00", "").strip()[:100]
    taggable = tags.taggable_clients(request.user, tag).exclude(pk__in=worn_ids).order_by("name", "email")
    searched = bool(query) and request.user.is_staff_member
    if request.user.is_staff_member:
        found = taggable.filter(Q(name__icontains=query) | Q(email__icontains=query)) if query else taggable.none()
        candidates = list(found[:SEARCH_LIMIT])
    else:
        candidates = list(taggable)
    return render(
        request,
        "availability/tags/clients.html",
        {
            "tag": tag,
            "wearing": wearing,
            "candidates": candidates,
            "search": request.user.is_staff_member,
            "searched": searched,
            "query": query,
            "error": error,
        },
        status=status,
    )


@role_required(Role.COACH, Role.STAFF)
@require_POST
def tag_assign(request: HttpRequest) -> HttpResponse:
    """Put a tag on a client or take it off from another page (the coach's clients list):
    ``tag``, ``client``, ``action`` (add, remove) and where to go back to (``next``)."""
    raw_tag = request.POST.get("tag", "")
    form = AssignForm(request.POST)
    if not (raw_tag.isascii() and raw_tag.isdigit() and len(raw_tag) < 19) or not form.is_valid():
        messages.error(request, _("Choose a tag to add."))
        return _next_or(request, reverse("connections"))
    tag = _managed_tag(request, int(raw_tag))
    refusal = _assign(request, tag, form)
    if refusal is not None:
        messages.error(request, refusal.message)
    return _next_or(request, reverse("connections"))
