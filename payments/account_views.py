"""The client's money pages: payments and credits (balance, ledger, enrollments, payments and
their refunds), a printable receipt per payment, the packages to buy and the programmes to
enroll in. Each page shows the signed-in person's own records only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from availability.rules import rules_for
from bookings.models import Enrollment, EnrollmentSource, Programme, SessionType
from bookings.services.enrollment import USING_ALLOWANCE, enroll, sessions_left
from config.errors import DomainError
from config.money import display, to_minor
from payments import credits, notify, services
from payments.models import CreditEntry, Package, Payment, PaymentStatus, RefundStatus


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _positive_id(value: str | None) -> int | None:
    """A filter's id from the query string; anything else is no filter."""
    if value and value.isdigit() and 0 < int(value) < 2**63:
        return int(value)
    return None


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "payments/problem.html", {"booking": None, "message": message}, status=status)


def what(payment: Payment) -> str:
    """What a payment was for, for people."""
    if payment.booking_id:
        booking = payment.booking
        return f"{booking.session.session_type.title} · {booking.reference}"
    if payment.package_id:
        return _("Package: %(title)s") % {"title": payment.package.title}
    if payment.programme_id:
        return _("Programme: %(title)s") % {"title": payment.programme.title}
    if payment.series_id:
        return _("Series paid up front: %(item)s") % {"item": notify.series_item(payment)}
    return "—"


def _payment_rows(payments) -> list[dict]:
    rows = []
    for payment in payments:
        refunds = list(payment.refunds.all())
        rows.append(
            {
                "payment": payment,
                "what": what(payment),
                "amount": display(payment.amount_minor, payment.currency),
                "refunds": [
                    {"refund": refund, "amount": display(refund.amount_minor, payment.currency)} for refund in refunds
                ],
            }
        )
    return rows


def _enrollments(client: User) -> list[Enrollment]:
    now = timezone.now()
    rows = list(
        Enrollment.objects.filter(client=client)
        .select_related("programme", "programme__coach")
        .annotate(used=Count("bookings", filter=Q(bookings__status__in=USING_ALLOWANCE), distinct=True))
        .order_by("-starts_at", "-pk")
    )
    for row in rows:
        row.left = sessions_left(row)
        row.is_open = row.ended_at is None and row.starts_at <= now and (row.ends_at is None or row.ends_at > now)
    return rows


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """Payments & credits: the credit balance by grant, the ledger, enrollments, payments."""
    user = request.user
    grants = list(credits.usable_grants(user).select_related("package"))
    ledger = list(
        CreditEntry.objects.filter(client=user)
        .select_related("package", "booking", "grant__package")
        .order_by("-created_at", "-pk")[:200]
    )
    payments = (
        Payment.objects.filter(client=user)
        .select_related("booking__session__session_type", "package", "programme")
        .prefetch_related("refunds")
        .order_by("-created_at", "-pk")
    )
    return render(
        request,
        "payments/account/mine.html",
        {
            "grants": grants,
            "balance": sum(grant.remaining for grant in grants),
            "ledger": ledger,
            "enrollments": _enrollments(user),
            "rows": _payment_rows(payments),
        },
    )


def _policy(payment: Payment) -> str:
    """The booking's refund policy, in words (empty for a package or a programme)."""
    booking = payment.booking
    if booking is None:
        return ""
    session_type = booking.session.session_type
    rules = rules_for(booking.session.coach.coach_profile, session_type)
    hours = int(rules.cancellation_notice.total_seconds() // 3600)
    if not rules.allow_late_cancellation:
        return _(
            "Cancel at least %(hours)s hours before the session for a full refund; later changes go through the coach."
        ) % {"hours": hours}
    return _(
        "Cancel at least %(hours)s hours before the session for a full refund; "
        "later, %(percent)s%% of what you paid comes back."
    ) % {"hours": hours, "percent": booking.late_refund_percent}


@login_required
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable receipt of one of the user's payments (staff may open any)."""
    payment = get_object_or_404(
        Payment.objects.select_related(
            "client", "booking__session__session_type", "booking__session__coach__coach_profile", "package", "programme"
        ),
        pk=pk,
    )
    if payment.client_id != request.user.pk and not request.user.is_staff_member:
        raise Http404()
    refunds = [
        {"refund": refund, "amount": display(refund.amount_minor, payment.currency)}
        for refund in payment.refunds.order_by("created_at")
    ]
    refunded = sum(r["refund"].amount_minor for r in refunds if r["refund"].status == RefundStatus.SUCCEEDED)
    return render(
        request,
        "payments/account/receipt.html",
        {
            "payment": payment,
            "what": what(payment),
            "amount": display(payment.amount_minor, payment.currency),
            "refunds": refunds,
            "net": display(payment.amount_minor - refunded, payment.currency),
            "policy": _policy(payment),
            "is_receipt": payment.status
            in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED),
        },
    )


# Packages ------------------------------------------------------------------------------


def offered_packages(coach_id: int | None = None):
    packages = (
        Package.objects.filter(is_active=True)
        .filter(Q(coach__isnull=True) | Q(coach__is_active=True))
        .select_related("coach")
        .prefetch_related("session_types")
        .order_by("coach__name", "title", "pk")
    )
    if coach_id is not None:
        packages = packages.filter(Q(coach_id=coach_id) | Q(coach__isnull=True))
    return packages


@login_required
def packages(request: HttpRequest) -> HttpResponse:
    """The packages of credits on offer (a coach's and the practice's with ``?coach=``)."""
    coach_id = _positive_id(request.GET.get("coach"))
    coach = User.objects.filter(pk=coach_id, role="coach").first() if coach_id else None
    rows = [
        {"package": package, "price": display(package.price_minor, package.currency)}
        for package in offered_packages(coach.pk if coach else None)
    ]
    return render(
        request,
        "payments/account/packages.html",
        {"rows": rows, "coach": coach, "balance": credits.balance(request.user)},
    )


@login_required
@require_POST
def buy_package(request: HttpRequest, pk: int) -> HttpResponse:
    """Buy a package: to the gateway's checkout; the webhook grants the credits once paid."""
    package = get_object_or_404(Package, pk=pk)
    if not request.user.is_client:
        return _problem(request, _("Only clients buy packages of credits."), 403)
    try:
        payment = services.checkout_for_package(package, client=request.user, base_url=_base_url(request))
    except DomainError as refusal:
        return _problem(request, refusal.message, refusal.status)
    return redirect(payment.checkout_url)


# Programmes ----------------------------------------------------------------------------


@login_required
def programmes(request: HttpRequest) -> HttpResponse:
    """The programmes open for enrollment (``?type=`` those that include a session type),
    with the user's open enrollment in each."""
    type_id = _positive_id(request.GET.get("type"))
    session_type = SessionType.objects.filter(pk=type_id).select_related("coach").first() if type_id else None
    offered = (
        Programme.objects.filter(is_active=True)
        .select_related("coach")
        .prefetch_related("session_types")
        .order_by("title", "pk")
    )
    if session_type is not None:
        offered = offered.filter(session_types=session_type)
    mine = {row.programme_id: row for row in _enrollments(request.user) if row.is_open}
    rows = []
    for programme in offered.distinct():
        rows.append(
            {
                "programme": programme,
                "price": display(to_minor(programme.price, programme.currency), programme.currency)
                if programme.price
                else "",
                "enrollment": mine.get(programme.pk),
            }
        )
    return render(request, "payments/account/programmes.html", {"rows": rows, "session_type": session_type})


@login_required
@require_POST
def enroll_programme(request: HttpRequest, pk: int) -> HttpResponse:
    """Enroll: a free programme at once, a priced one through the gateway's checkout (the
    webhook enrolls once paid)."""
    programme = get_object_or_404(Programme, pk=pk)
    if not request.user.is_client:
        return _problem(request, _("Only clients enroll in programmes."), 403)
    try:
        if programme.price > 0:
            payment = services.checkout_for_programme(programme, client=request.user, base_url=_base_url(request))
            return redirect(payment.checkout_url)
        enroll(client=request.user, programme=programme, actor=request.user, source=EnrollmentSource.PURCHASE)
    except DomainError as refusal:
        return _problem(request, refusal.message, refusal.status)
    messages.success(request, _("You are enrolled in %(title)s.") % {"title": programme.title})
    back = reverse("payments:programmes")
    type_id = _positive_id(request.POST.get("type"))
    return redirect(f"{back}?type={type_id}" if type_id else back)
