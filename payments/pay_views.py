"""The payer's pages: paying for a held booking (``pay``), coming back from the gateway
(``returned``: it only reads what the webhook wrote), giving up (``abandon``), paying a
deposit's balance or the rest of a series up front (``pay_series``), and the local test
gateway's card page (``local_checkout``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bookings.models import Booking, BookingStatus, Series
from bookings.services.payment import payment_lapsed
from config.errors import DomainError
from config.money import display
from payments import local, notify, reasons, services
from payments.models import Backend, Payment, PaymentStatus


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _my_booking(request: HttpRequest, reference: str) -> Booking:
    booking = get_object_or_404(
        Booking.objects.select_related("session", "session__session_type", "session__coach", "client"),
        reference=reference,
    )
    user = request.user
    if user.pk not in (booking.client_id, booking.booked_by_id) and not user.is_staff_member:
        raise Http404()
    return booking


def _problem(request: HttpRequest, booking: Booking | None, message: str, status: int = 409) -> HttpResponse:
    return render(request, "payments/problem.html", {"booking": booking, "message": message}, status=status)


@login_required
def pay(request: HttpRequest, reference: str) -> HttpResponse:
    """Go to the gateway for a booking held for payment (its open checkout, or a new one)."""
    booking = _my_booking(request, reference)
    if booking.status != BookingStatus.AWAITING_PAYMENT:
        return redirect("booking_detail", booking.reference)
    try:
        payment = services.checkout_for(booking, actor=request.user, base_url=_base_url(request))
    except DomainError as exc:
        return _problem(request, booking, exc.message, status=exc.status)
    return redirect(payment.checkout_url)


@login_required
@require_POST
def pay_balance(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _my_booking(request, reference)
    try:
        payment = services.checkout_for_balance(booking, actor=request.user, base_url=_base_url(request))
    except DomainError as exc:
        return _problem(request, booking, exc.message, status=exc.status)
    return redirect(payment.checkout_url)


@login_required
@require_POST
def pay_series(request: HttpRequest, pk: int) -> HttpResponse:
    """Go to the gateway to pay the rest of a series up front, at its discount."""
    series = get_object_or_404(Series.objects.select_related("session_type", "coach"), pk=pk)
    if not services.may_pay_series(request.user, series):
        raise Http404()
    try:
        payment = services.checkout_for_series(series, actor=request.user, base_url=_base_url(request))
    except DomainError as exc:
        return _problem(request, None, exc.message, status=exc.status)
    return redirect(payment.checkout_url)


@login_required
@require_POST
def abandon(request: HttpRequest, reference: str) -> HttpResponse:
    """The payer gives up: the hold ends now and the time is free for others."""
    booking = _my_booking(request, reference)
    payment_lapsed(booking=booking, actor=request.user, reason=reasons.CLIENT_CANCELLED_BEFORE_PAYING)
    return redirect("booking_detail", booking.reference)


@login_required
def returned(request: HttpRequest, pk: int) -> HttpResponse:
    """Back from the gateway: what the webhook has told us so far. Nothing here changes a
    payment; while the gateway's word is awaited the page looks again every few seconds."""
    payment = get_object_or_404(
        Payment.objects.select_related(
            "booking", "booking__session", "booking__session__session_type", "package", "series"
        ),
        pk=pk,
    )
    user = request.user
    booking = payment.booking
    owners = _payers(payment)
    if user.pk not in owners and not user.is_staff_member:
        raise Http404()
    cancelled = request.GET.get("outcome") == "cancel"
    if booking is not None:
        booking.refresh_from_db()
    waiting = payment.status == PaymentStatus.PENDING and not cancelled
    return render(
        request,
        "payments/returned.html",
        {
            "payment": payment,
            "booking": booking,
            "amount": display(payment.amount_minor, payment.currency),
            "cancelled": cancelled,
            "series_item": notify.series_item(payment) if payment.series_id else "",
            "waiting": waiting,
            "still_held": booking is not None and booking.status == BookingStatus.AWAITING_PAYMENT,
            "last_action": booking.events.order_by("-pk").values_list("action", flat=True).first()
            if booking is not None
            else "",
        },
    )


@login_required
def local_checkout(request: HttpRequest, checkout_id: str) -> HttpResponse:
    """The local test gateway's card page: a Stripe-like form whose outcome is chosen by the
    test card number, then the same events as Stripe's webhook."""
    payment = get_object_or_404(
        Payment.objects.select_related("booking", "booking__session__session_type", "package", "programme", "series"),
        backend=Backend.LOCAL,
        checkout_id=checkout_id,
    )
    if request.user.pk not in _payers(payment):
        raise Http404()
    done_url = reverse("payments:returned", args=[payment.pk])
    context = {
        "payment": payment,
        "amount": display(payment.amount_minor, payment.currency),
        "what": _what(payment),
        "cancel_url": done_url + "?outcome=cancel",
        "cards": local,
    }
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED) or (
        payment.expires_at and payment.expires_at <= timezone.now()
    ):
        return render(request, "payments/local_checkout.html", {**context, "closed": True}, status=410)
    if request.method != "POST":
        return render(request, "payments/local_checkout.html", context)
    step = request.POST.get("step", "card")
    if step == "authenticate":
        if request.POST.get("result") == "complete":
            local.complete(payment)
            return redirect(done_url + "?outcome=success")
        local.fail(payment, local.authentication_failed_message())
        payment.refresh_from_db()
        return render(request, "payments/local_checkout.html", {**context, "error": payment.failure_message})
    card = local.digits(request.POST.get("card", ""))
    if card not in local.TEST_CARDS:
        context["error"] = _("Use one of the test cards below.")
        return render(request, "payments/local_checkout.html", context, status=400)
    if card == local.CARD_DECLINED:
        local.fail(payment, local.declined_message())
        payment.refresh_from_db()
        return render(request, "payments/local_checkout.html", {**context, "error": payment.failure_message})
    if card == local.CARD_AUTHENTICATE:
        return render(request, "payments/local_checkout.html", {**context, "authenticate": True})
    local.complete(payment)
    return redirect(done_url + "?outcome=success")


def _payers(payment: Payment) -> set[int | None]:
    """Who may follow a payment: its client, and whoever booked what it pays for them."""
    if payment.booking_id:
        return {payment.client_id, payment.booking.booked_by_id}
    if payment.series_id:
        return {payment.client_id, payment.series.booked_by_id}
    return {payment.client_id}


def _what(payment: Payment) -> str:
    if payment.booking_id:
        return payment.booking.session.session_type.title
    if payment.package_id:
        return payment.package.title
    if payment.programme_id:
        return payment.programme.title
    if payment.series_id:
        return notify.series_item(payment)
    return ""
