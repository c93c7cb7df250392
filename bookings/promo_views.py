"""Promotion codes in the browser: the list (code, discount, validity, uses), a form to
create or edit one, and turning one off or on again.

A coach sees and manages their own codes; back-office staff the practice's and everyone's
(another coach's code answers 404 to a coach). Every write goes through the
promotion-code service (``bookings.promos``); its refusals show beside their field (the
form) or as a message (the list), with a 4xx status.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Role
from bookings import promos
from bookings.models import PromoCode
from bookings.promo_forms import PromoForm
from config import money
from config.errors import DomainError


def _to_list(promo: PromoCode | None = None) -> HttpResponseRedirect:
    url = reverse("promo_list")
    if promo is not None:
        url += f"#promo-{promo.pk}"
    return HttpResponseRedirect(url, status=303)


def _discount(promo: PromoCode) -> str:
    if promo.percent_off is not None:
        return _("%(percent)s%% off") % {"percent": promo.percent_off}
    return _("%(amount)s off") % {"amount": money.display_major(promo.amount_off, promo.currency).strip()}


def _uses(promo: PromoCode) -> str:
    if promo.max_uses is None:
        return _("%(used)s (no limit)") % {"used": promo.times_used}
    return _("%(used)s of %(max)s") % {"used": promo.times_used, "max": promo.max_uses}


def _state(promo: PromoCode, now) -> str:
    if not promo.is_active:
        return _("Off")
    if promo.valid_until and now >= promo.valid_until:
        return _("Expired")
    if promo.valid_from and now < promo.valid_from:
        return _("Not started")
    if promo.max_uses is not None and promo.times_used >= promo.max_uses:
        return _("Used up")
    return pgettext("promotion code", "Active")


@role_required(Role.COACH, Role.STAFF)
def promo_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rows = [
        {
            "promo": promo,
            "discount": _discount(promo),
            "uses": _uses(promo),
            "state": _state(promo, now),
            "live": _state(promo, now) == pgettext("promotion code", "Active"),
            "types": [st.title for st in promo.session_types.all()],
        }
        for promo in promos.promos_managed_by(request.user).order_by("-is_active", "code")
    ]
    return render(
        request,
        "bookings/promos/list.html",
        {"rows": rows, "staff": request.user.is_staff_member, "zone": timezone.get_current_timezone_name()},
    )


def _editor(request: HttpRequest, promo: PromoCode | None) -> HttpResponse:
    form = PromoForm(request.POST or None, actor=request.user, promo=promo)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if promo is None:
                    coach = form.cleaned_data.get("coach") if "coach" in form.fields else request.user
                    saved = promos.create_promo(actor=request.user, coach=coach, **form.values())
                    messages.success(request, _("The code %(code)s is created.") % {"code": saved.code})
                else:
                    saved = promos.update_promo(promo=promo, actor=request.user, **form.values())
                    messages.success(request, _("The code %(code)s is saved.") % {"code": saved.code})
            except DomainError as refusal:
                form.show_refusal(refusal.field, refusal.message)
                status = refusal.status if 400 <= refusal.status < 500 else 400
            else:
                return _to_list(saved)
        else:
            status = 400
    return render(
        request,
        "bookings/promos/form.html",
        {"form": form, "promo": promo, "zone": timezone.get_current_timezone_name()},
        status=status,
    )


@role_required(Role.COACH, Role.STAFF)
def promo_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@role_required(Role.COACH, Role.STAFF)
def promo_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(promos.promos_managed_by(request.user), pk=pk))


@role_required(Role.COACH, Role.STAFF)
@require_POST
def promo_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    promo = get_object_or_404(promos.promos_managed_by(request.user), pk=pk)
    try:
        promos.set_promo_active(promo=promo, actor=request.user, active=not promo.is_active)
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        if promo.is_active:
            messages.success(request, _("The code %(code)s can be used again.") % {"code": promo.code})
        else:
            messages.success(
                request,
                _("The code %(code)s is off: clients can't use it any more; bookings made with it keep their price.")
                % {"code": promo.code},
            )
    return _to_list(promo)
