"""Pages about people: home, profile, coach settings, connections. (Each role's dashboard
combines people and bookings, so it is in ``bookings.dashboards``.)"""

from __future__ import annotations

from allauth.account.internal import flows
from allauth.account.models import EmailAddress
from allauth.account.utils import perform_login
from allauth.account.views import ConfirmEmailView as AllauthConfirmEmailView
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts import selectors, services, subjects
from accounts.access import get_connection_for, get_token_for, role_required
from accounts.forms import (
    ApiTokenForm,
    CoachSettingsForm,
    ConnectionRequestForm,
    DependentForm,
    ProfileForm,
    SubjectsForm,
)
from accounts.language import remember_choice, supported
from accounts.models import CoachProfile, Connection, ConnectionStatus, Role, User
from config.errors import DomainError, NotAllowed


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"coaches": selectors.coaches_visible_to(request.user)[:6]})


class ConfirmEmailView(AllauthConfirmEmailView):
    """Confirming one's email signs the person in. allauth does so only in the browser that
    signed up, within its sign-in window (``ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION``); here the
    link also signs in on another device or later, once, when this confirmation is what
    makes the account usable (no other address of it was verified) — as a password reset
    link would. A link used again, or one confirming an added address, signs no one in."""

    def post(self, *args, **kwargs) -> HttpResponse:
        self.object = confirmation = self.get_object()
        user = confirmation.email_address.user
        opens_the_account = not EmailAddress.objects.filter(user=user, verified=True).exists()
        email_address, response = flows.email_verification.verify_email_and_resume(self.request, confirmation)
        if response:
            return response
        if not email_address:
            return self.respond(False)
        self.logout_other_user(confirmation)
        if opens_the_account and user.is_active and not self.request.user.is_authenticated:
            return perform_login(self.request, user, redirect_url=self.get_next_url(), email=email_address.email)
        return self.respond(True)

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        user = self.object.email_address.user if self.object else None
        context["signs_in"] = (
            user is not None
            and user.is_active
            and not self.request.user.is_authenticated
            and not EmailAddress.objects.filter(user=user, verified=True).exists()
        )
        return context


confirm_email = ConfirmEmailView.as_view()


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Send each person to the dashboard of their role."""
    user = request.user
    if user.is_superuser or user.role == Role.STAFF:
        return redirect("staff_dashboard")
    if user.role == Role.COACH:
        return redirect("coach_dashboard")
    return redirect("client_dashboard")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, initial=_profile_initial(user))
    if request.method == "POST" and form.is_valid():
        # Left out of the form (a script's post): the language stays as it is.
        language = form.cleaned_data["language"] if "language" in request.POST else None
        services.update_profile(
            user=user,
            name=form.cleaned_data["name"],
            timezone_name=form.cleaned_data["timezone"],
            phone=form.cleaned_data["phone"],
            language=language,
        )
        if language:  # the message in the language just chosen
            translation.activate(language)
        messages.success(request, gettext("Your profile is saved."))
        response = redirect("profile")
        if language is not None:
            remember_choice(response, language)
        return response
    return _render_profile(request, form=form)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The footer's language switch: the visitor's browser keeps the choice (a cookie) and a
    signed-in person's profile saves it; back to the page it was made on (``next``, else
    the referring page, on this site only). Works without JavaScript."""
    code = request.POST.get("language", "")
    back = request.POST.get("next") or request.headers.get("referer") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("home")
    response = redirect(back)
    if not supported(code):
        messages.error(request, gettext("Choose one of the languages offered."))
        return response
    if request.user.is_authenticated:
        services.set_language(user=request.user, language=code)
    remember_choice(response, code)
    return response


def _profile_initial(user: User) -> dict[str, str]:
    return {"name": user.name, "timezone": user.timezone, "phone": user.phone, "language": user.language}


def _render_profile(request: HttpRequest, **context: object) -> HttpResponse:
    user = request.user
    context.setdefault("form", ProfileForm(initial=_profile_initial(user)))
    context.setdefault("token_form", ApiTokenForm())
    context.setdefault("dependent_form", DependentForm())
    context["tokens"] = user.api_tokens.all()
    context["tokens_behind_developer"] = user.role == Role.CLIENT and not user.is_superuser
    context["dependents"] = selectors.dependents_of(user)
    context["guardians"] = selectors.guardians_of(user)
    status = 400 if any(getattr(f, "errors", None) for f in context.values() if hasattr(f, "is_bound")) else 200
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _render_profile(request, token_form=form)
    token, raw = services.create_api_token(user=request.user, name=form.cleaned_data["name"])
    messages.success(
        request,
        gettext("Token “%(name)s” created. Copy it now: it will not be shown again.") % {"name": token.name},
    )
    return _render_profile(request, new_token=raw)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_token_for(request.user, pk)
    services.revoke_api_token(token=token, actor=request.user)
    messages.success(request, gettext("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("profile")


@login_required
@require_POST
def dependent_add(request: HttpRequest) -> HttpResponse:
    form = DependentForm(request.POST)
    if form.is_valid():
        try:
            link = services.link_dependent(
                guardian=request.user,
                dependent_email=form.cleaned_data["email"],
                relationship=form.cleaned_data["relationship"],
            )
        except DomainError as error:
            form.add_error("email", error.message)
        else:
            messages.success(
                request,
                gettext("%(person)s is now linked to your account; you can book for them.")
                % {"person": link.dependent},
            )
            return redirect("profile")
    return _render_profile(request, dependent_form=form)


@role_required(Role.COACH)
def coach_settings(request: HttpRequest) -> HttpResponse:
    # An admin passes the role check but has no coach profile: nothing to edit, so 404.
    profile = get_object_or_404(CoachProfile, user=request.user)
    form = CoachSettingsForm(request.POST or None, instance=profile, with_prices=True, with_series=True)
    subjects_form = SubjectsForm(request.POST or None, initial={"subjects": list(profile.subjects.all())})
    context = {"form": form, "subjects_form": subjects_form}
    if request.method == "POST":
        valid = form.is_valid() & subjects_form.is_valid()
        if valid:
            try:
                _save_settings(request, profile, form, subjects_form)
            except DomainError:
                pass
            else:
                messages.success(request, gettext("Your booking settings are saved."))
                return redirect("coach_settings")
        return render(request, "accounts/coach_settings.html", context, status=400)
    return render(request, "accounts/coach_settings.html", context)


def _save_price_settings(profile: CoachProfile, prices: dict[str, object]) -> None:
    """The price settings the booking-settings service doesn't write (the discount for
    connected clients), on the profile its owner (or staff) was just allowed to change."""
    if not prices:
        return
    for name, value in prices.items():
        setattr(profile, name, value)
    try:
        profile.full_clean(exclude=["user"])
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field=next(iter(prices))) from None
    profile.save(update_fields=list(prices))


def _save_settings(
    request: HttpRequest, profile: CoachProfile, form: CoachSettingsForm, subjects_form: SubjectsForm
) -> None:
    """The rules and the subjects, both or neither; a refusal goes on its form and is raised."""
    with transaction.atomic():
        settable = {*services.COACH_SETTING_FIELDS, *services.SERIES_SETTING_FIELDS}
        rules = {name: value for name, value in form.cleaned_data.items() if name in settable}
        prices = {name: value for name, value in form.cleaned_data.items() if name not in rules}
        try:
            services.update_coach_settings(profile=profile, actor=request.user, **rules)
            _save_price_settings(profile, prices)
        except DomainError as error:
            form.add_error(None, error.message)
            raise
        try:
            subjects.set_coach_subjects(
                profile=profile,
                actor=request.user,
                subjects=subjects_form.cleaned_data["subjects"],
                new_name=subjects_form.cleaned_data["new_subject"],
            )
        except DomainError as error:
            subjects_form.add_error("new_subject" if error.field == "new_subject" else None, error.message)
            raise


@role_required(Role.CLIENT, Role.COACH, Role.STAFF)
def connections(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = None
    if user.is_client:
        form = ConnectionRequestForm(request.POST or None, coaches=selectors.coaches_open_to_requests(user))
        if request.method == "POST" and form.is_valid():
            try:
                services.request_connection(
                    client=user, coach=form.cleaned_data["coach"], message=form.cleaned_data["message"]
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, gettext("Request sent to %(coach)s.") % {"coach": form.cleaned_data["coach"]})
                return redirect("connections")
    elif request.method == "POST":
        raise PermissionDenied(gettext("Only clients can ask to connect with a coach."))
    as_coach = list(selectors.connections_of_coach(user)) if user.is_coach else []
    if as_coach:
        _with_tags(user, as_coach)
    context = {
        "form": form,
        "as_client": selectors.connections_of_client(user) if user.is_client else [],
        "as_coach": as_coach,
    }
    status = 400 if form is not None and form.is_bound and form.errors else 200
    return render(request, "accounts/connections.html", context, status=status)


def _with_tags(coach: User, connections: list[Connection]) -> None:
    """Give each connected client on the coach's list ``client_tags`` (the tags that apply
    with this coach: the coach's own and the practice's) and ``addable_tags`` (the coach's
    own tags the client doesn't wear yet)."""
    accepted = [c for c in connections if c.status == ConnectionStatus.ACCEPTED]
    worn = selectors.tags_by_client(coach, [c.client for c in accepted])
    own = list(selectors.own_tags(coach))
    for connection in accepted:
        connection.client_tags = worn[connection.client_id]
        on = {tag.pk for tag in connection.client_tags}
        connection.addable_tags = [tag for tag in own if tag.pk not in on]
    for connection in connections:
        connection.has_own_tags = bool(own)


@login_required
@require_POST
def connection_respond(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    connection = get_connection_for(request.user, pk)
    try:
        services.respond_to_connection(connection=connection, actor=request.user, accept=decision == "accept")
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if decision == "accept":
            message = gettext("You accepted %(client)s's request.")
        else:
            message = gettext("You declined %(client)s's request.")
        messages.success(request, message % {"client": connection.client})
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("connections")
