"""``{% waitlist_for session %}``: on a full session's row, the signed-in client's place on
its waitlist (or the seat held for them), else "Join the waitlist" when they may."""

from __future__ import annotations

from django import template

from waitlist import services
from waitlist.models import OPEN_STATUSES, OfferStatus, WaitlistEntry, WaitlistOffer

register = template.Library()


@register.inclusion_tag("waitlist/_for_session.html", takes_context=True)
def waitlist_for(context, session) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    found = {"session": session, "entry": None, "offer": None, "may_join": False, "signed_in": False}
    if user is None or not user.is_authenticated:
        found["may_join"] = services.max_size(session) > 0
        return found
    found["signed_in"] = True
    entry = WaitlistEntry.objects.filter(session_id=session.pk, client=user, status__in=OPEN_STATUSES).first()
    if entry is not None:
        found["entry"] = entry
        found["offer"] = WaitlistOffer.objects.filter(entry=entry, status=OfferStatus.PENDING).first()
        found["position"] = services.position(entry)
    elif user.is_client:
        found["may_join"] = services.may_join(session, user)
    return found


@register.inclusion_tag("waitlist/_dashboard.html", takes_context=True)
def my_waitlist(context) -> dict:
    """On the client's dashboard: the sessions they wait for, first the seats held for them."""
    user = context["request"].user
    entries = list(
        WaitlistEntry.objects.filter(client=user, status__in=OPEN_STATUSES)
        .select_related("session__session_type", "session__coach", "session_type__coach")
        .order_by("status", "session__start", "date_from")[:5]
    )
    offers = {}
    if any(entry.status == "offered" for entry in entries):
        offers = {
            offer.entry_id: offer
            for offer in WaitlistOffer.objects.filter(entry__in=entries, status=OfferStatus.PENDING)
        }
    return {"entries": [(entry, offers.get(entry.pk)) for entry in entries]}


@register.inclusion_tag("waitlist/_coach.html", takes_context=True)
def coach_waitlists(context) -> dict:
    """On the coach's dashboard: the sessions and session types people wait for, with how
    many, each linked to its queue (one query)."""
    return {"rows": services.waiting_for(context["request"].user)}
