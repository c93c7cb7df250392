"""The coach's and staff's money pages: the payments of the coach's bookings, packages and
programmes (every payment for staff) with totals per currency; packages and programmes
(create, edit, take off offer); enrolling a client in a programme and ending an enrollment.

A coach sees and changes their own; staff everything. Someone else's record is a 404."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from bookings.models import Enrollment, EnrollmentSource, Programme
from bookings.services import programmes as programme_service
from bookings.services.enrollment import USING_ALLOWANCE, enroll, sessions_left
from bookings.services.enrollment import end_enrollment as end_service
from config.errors import DomainError
from config.money import display, to_minor
from payments import packages as package_service
from payments.account_views import what
from payments.forms import EnrollForm, PackageForm, PaymentFilterForm, ProgrammeForm
from payments.models import Package, Payment, PaymentStatus, RefundStatus

PAGE_SIZE = 50
RECEIVED = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def _manager(request: HttpRequest) -> User:
    user = request.user
    if not (user.is_coach or user.is_staff_member):
        raise PermissionDenied
    return user


def _owned(user: User, queryset, coach_field: str = "coach"):
    return queryset if user.is_staff_member else queryset.filter(**{coach_field: user})


# Payments ------------------------------------------------------------------------------


def _payments_of(user: User):
    payments = Payment.objects.select_related(
        "client", "booking__session__session_type", "booking__session__coach", "package", "programme"
    )
    if user.is_staff_member:
        return payments
    return payments.filter(Q(booking__session__coach=user) | Q(package__coach=user) | Q(programme__coach=user))


@login_required
def payment_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    form = PaymentFilterForm(request.GET or None)
    payments = _payments_of(user)
    if form.is_valid():
        data = form.cleaned_data
        zone = ZoneInfo(request.viewer_timezone)
        if data["status"]:
            payments = payments.filter(status=data["status"])
        if data["date_from"]:
            payments = payments.filter(created_at__gte=dt.datetime.combine(data["date_from"], dt.time(), tzinfo=zone))
        if data["date_to"]:
            end = dt.datetime.combine(data["date_to"] + dt.timedelta(days=1), dt.time(), tzinfo=zone)
            payments = payments.filter(created_at__lt=end)
    elif form.is_bound:
        payments = payments.none()
    totals = _totals(payments)
    page = Paginator(payments.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"payment": payment, "what": what(payment), "amount": display(payment.amount_minor, payment.currency)}
        for payment in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "payments/manage/payments.html",
        {"form": form, "rows": rows, "page": page, "totals": totals, "query": query.urlencode()},
    )


def _totals(payments) -> list[dict]:
    """Per currency: what came in (paid, even if refunded since), what went back, the net."""
    received: dict[str, int] = defaultdict(int)
    refunded: dict[str, int] = defaultdict(int)
    for row in payments.filter(status__in=RECEIVED).values("currency").annotate(total=Sum("amount_minor")):
        received[row["currency"]] += row["total"] or 0
    refunds = (
        payments.filter(refunds__status=RefundStatus.SUCCEEDED)
        .values("currency")
        .annotate(total=Sum("refunds__amount_minor"))
    )
    for row in refunds:
        refunded[row["currency"]] += row["total"] or 0
    return [
        {
            "currency": currency,
            "received": display(received[currency], currency),
            "refunded": display(refunded[currency], currency),
            "net": display(received[currency] - refunded[currency], currency),
        }
        for currency in sorted(set(received) | set(refunded))
    ]


# Packages ------------------------------------------------------------------------------


@login_required
def package_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    rows = [
        {"package": package, "price": display(package.price_minor, package.currency)}
        for package in _owned(user, Package.objects.select_related("coach").prefetch_related("session_types"))
        .annotate(sold=Count("payments", filter=Q(payments__status__in=RECEIVED)))
        .order_by("-is_active", "coach__name", "title")
    ]
    return render(request, "payments/manage/packages.html", {"rows": rows})


@login_required
def package_create(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    staff = user.is_staff_member
    owner = None if staff else user
    form = PackageForm(request.POST or None, actor=user, owner=owner, choose_owner=staff)
    if request.method == "POST" and form.is_valid():
        try:
            package = package_service.create_package(actor=user, coach=form.chosen_owner(), **form.service_fields())
        except DomainError as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("Package “%(title)s” created.") % {"title": package.title})
            return redirect("payments:manage_packages")
    return render(request, "payments/manage/form.html", _form_context(form, _("New package"), "manage_packages"))


@login_required
def package_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    package = get_object_or_404(_owned(user, Package.objects.select_related("coach")), pk=pk)
    if request.method == "POST" and "deactivate" in request.POST:
        package_service.update_package(actor=user, package=package, is_active=False)
        messages.success(request, _("“%(title)s” is no longer offered.") % {"title": package.title})
        return redirect("payments:manage_packages")
    form = PackageForm(
        request.POST or None,
        initial=PackageForm.initial_for(package),
        actor=user,
        owner=package.coach,
        choose_owner=False,
    )
    if request.method == "POST" and form.is_valid():
        try:
            package_service.update_package(actor=user, package=package, **form.service_fields())
        except DomainError as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("Package “%(title)s” saved.") % {"title": form.cleaned_data["title"]})
            return redirect("payments:manage_packages")
    context = _form_context(form, _("Edit package"), "manage_packages")
    context["deactivate"] = package.is_active
    return render(request, "payments/manage/form.html", context)


def _form_context(form, title: str, back: str) -> dict:
    return {"form": form, "title": title, "back": f"payments:{back}"}


# Programmes and enrollments ------------------------------------------------------------


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    programmes = (
        _owned(user, Programme.objects.select_related("coach").prefetch_related("session_types"))
        .annotate(enrolled=Count("enrollments", filter=Q(enrollments__ended_at__isnull=True), distinct=True))
        .order_by("-is_active", "coach__name", "title")
    )
    rows = [
        {
            "programme": programme,
            "price": display(to_minor(programme.price, programme.currency), programme.currency)
            if programme.price
            else "",
        }
        for programme in programmes
    ]
    return render(request, "payments/manage/programmes.html", {"rows": rows})


@login_required
def programme_create(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    staff = user.is_staff_member
    form = ProgrammeForm(request.POST or None, actor=user, owner=None if staff else user, choose_owner=staff)
    if request.method == "POST" and form.is_valid():
        try:
            programme = programme_service.create_programme(
                actor=user, coach=form.chosen_owner(), **form.service_fields()
            )
        except DomainError as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("Programme “%(title)s” created.") % {"title": programme.title})
            return redirect("payments:programme_edit", programme.pk)
    return render(request, "payments/manage/form.html", _form_context(form, _("New programme"), "manage_programmes"))


def _enrollment_rows(programme: Programme) -> list[Enrollment]:
    now = timezone.now()
    rows = list(
        programme.enrollments.select_related("client", "enrolled_by")
        .annotate(used=Count("bookings", filter=Q(bookings__status__in=USING_ALLOWANCE), distinct=True))
        .order_by("ended_at", "-starts_at")
    )
    for row in rows:
        row.left = sessions_left(row)
        row.is_open = row.ended_at is None and (row.ends_at is None or row.ends_at > now)
    return rows


@login_required
def programme_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A programme's fields, its enrollments (end one) and a form to enroll a client."""
    user = _manager(request)
    programme = get_object_or_404(_owned(user, Programme.objects.select_related("coach")), pk=pk)
    form = ProgrammeForm(
        request.POST or None,
        initial=ProgrammeForm.initial_for(programme),
        actor=user,
        owner=programme.coach,
        choose_owner=False,
    )
    if request.method == "POST" and form.is_valid():
        try:
            programme_service.update_programme(actor=user, programme=programme, **form.service_fields())
        except DomainError as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("Programme “%(title)s” saved.") % {"title": form.cleaned_data["title"]})
            return redirect("payments:programme_edit", programme.pk)
    return _programme_page(request, programme, form, EnrollForm(actor=user))


def _programme_page(request: HttpRequest, programme: Programme, form, enroll_form, status: int = 200) -> HttpResponse:
    user = request.user
    can_enroll = user.is_staff_member or programme.coach_id == user.pk
    return render(
        request,
        "payments/manage/programme.html",
        {
            "programme": programme,
            "form": form,
            "enroll_form": enroll_form if can_enroll else None,
            "enrollments": _enrollment_rows(programme),
        },
        status=status,
    )


@login_required
@require_POST
def enroll_client(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    programme = get_object_or_404(_owned(user, Programme.objects.select_related("coach")), pk=pk)
    enroll_form = EnrollForm(request.POST, actor=user)
    if enroll_form.is_valid():
        client = enroll_form.cleaned_data["client"]
        source = EnrollmentSource.STAFF if user.is_staff_member else EnrollmentSource.COACH
        try:
            enroll(client=client, programme=programme, actor=user, source=source)
        except DomainError as refusal:
            enroll_form.add_error("client", refusal.message)
        else:
            messages.success(
                request,
                _("%(name)s is enrolled in %(title)s.") % {"name": client.display_name, "title": programme.title},
            )
            return redirect("payments:programme_edit", programme.pk)
    form = ProgrammeForm(
        initial=ProgrammeForm.initial_for(programme), actor=user, owner=programme.coach, choose_owner=False
    )
    return _programme_page(request, programme, form, enroll_form, status=400)


@login_required
@require_POST
def end_enrollment(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    enrollment = get_object_or_404(Enrollment.objects.select_related("programme", "client"), pk=pk)
    if not (user.is_staff_member or enrollment.programme.coach_id == user.pk):
        raise Http404()
    try:
        end_service(enrollment=enrollment, actor=user)
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("%(name)s's enrollment in %(title)s has ended.")
            % {"name": enrollment.client.display_name, "title": enrollment.programme.title},
        )
    return redirect("payments:programme_edit", enrollment.programme_id)
