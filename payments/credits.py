"""The credit ledger: grant, spend, give back and expire credits, and a client's balance.

Every write is one transaction that first locks the client's user row, then re-reads the
ledger and writes: two spends of the same client's last credit queue on that lock, and the
second one reads the first one's entry and is refused. So a balance never goes below zero.

A grant's credits are used first-expiring-first (FIFO by expiry, grants that never expire
last). Each spend, return and expiry names the grant it draws on, so what is left of a grant
is its amount plus the (signed) sum of its uses, and a returned credit keeps its grant's
expiry. Nothing here is wired to bookings yet (a later step does that).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config.errors import DomainError
from payments.models import CreditEntry, CreditKind, Package

if TYPE_CHECKING:
    from bookings.models import Booking, SessionType

MAX_GRANT = 1000  # the most credits one grant gives (a package holds at most 1000)


class CreditRefused(DomainError):
    """A ledger change the balance refuses: HTTP 409 with a stable code."""

    status = 409


class NoCredits(CreditRefused):
    """No usable credit for this spend (409 ``no_credits``)."""

    def __init__(self) -> None:
        super().__init__(_("Insufficient credits."), code="no_credits")  # seed 003's text


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _lock_client(client: User) -> None:
    """Lock the client's row for the rest of the transaction (every ledger write does)."""
    list(User.objects.select_for_update(no_key=True).filter(pk=client.pk).values_list("pk", flat=True))


def _with_remaining(entries: QuerySet[CreditEntry]) -> QuerySet[CreditEntry]:
    """Grants annotated with ``remaining``: their amount plus the signed sum of their uses."""
    used = (
        CreditEntry.objects.filter(grant=OuterRef("pk"))
        .order_by()
        .values("grant")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return entries.annotate(remaining=F("amount") + Coalesce(Subquery(used), Value(0)))


def _covers(session_type: SessionType | int) -> Q:
    """Grants usable for ``session_type``: no package, a package for any type (no types
    listed), or a package listing it."""
    through = Package.session_types.through
    type_id = getattr(session_type, "pk", session_type)
    lists_types = Exists(through.objects.filter(package_id=OuterRef("package_id")))
    lists_this = Exists(through.objects.filter(package_id=OuterRef("package_id"), sessiontype_id=type_id))
    return Q(package__isnull=True) | ~lists_types | lists_this


def usable_grants(
    client: User, *, now: dt.datetime | None = None, session_type: SessionType | int | None = None
) -> QuerySet[CreditEntry]:
    """The client's grants with credits left and not expired at ``now`` (each annotated with
    ``remaining``), the first to expire first."""
    now = _now(now)
    grants = CreditEntry.objects.filter(client=client, kind=CreditKind.GRANT).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    if session_type is not None:
        grants = grants.filter(_covers(session_type))
    return (
        _with_remaining(grants)
        .filter(remaining__gt=0)
        .order_by(F("expires_at").asc(nulls_last=True), "created_at", "pk")
    )


def balance(client: User, *, now: dt.datetime | None = None, session_type: SessionType | int | None = None) -> int:
    """The credits the client can use at ``now`` (for ``session_type``, when given)."""
    return sum(grant.remaining for grant in usable_grants(client, now=now, session_type=session_type))


def _validated_expiry(expires_at: object) -> dt.datetime | None:
    if expires_at is None:
        return None
    if not isinstance(expires_at, dt.datetime) or timezone.is_naive(expires_at):
        raise DomainError(_("Give the expiry as a date and time with a time zone."), field="expires_at")
    return expires_at


def grant(
    client: User,
    *,
    credits: int,
    package: Package | None = None,
    expires_at: dt.datetime | None = None,
    actor: User | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> CreditEntry:
    """Give the client ``credits`` credits (from ``package``, when bought or given as one).
    Without ``expires_at``, a package's credits expire its validity days from now and
    other credits never expire."""
    if isinstance(credits, bool) or not isinstance(credits, int) or not 1 <= credits <= MAX_GRANT:
        raise DomainError(
            _("Credits must be a whole number between %(low)s and %(high)s.") % {"low": 1, "high": MAX_GRANT},
            field="credits",
        )
    expires_at = _validated_expiry(expires_at)
    if expires_at is None and package is not None:
        expires_at = _now(now) + dt.timedelta(days=package.validity_days)
    note = str(note or "").strip()
    if len(note) > CreditEntry._meta.get_field("note").max_length:
        raise DomainError(_("The note is too long (at most 200 characters)."), field="note")
    with transaction.atomic():
        _lock_client(client)
        return CreditEntry.objects.create(
            client=client,
            kind=CreditKind.GRANT,
            amount=credits,
            package=package,
            expires_at=expires_at,
            note=note,
            created_by=actor,
        )


def spend(
    client: User,
    *,
    booking: Booking | None = None,
    session_type: SessionType | int | None = None,
    now: dt.datetime | None = None,
    actor: User | None = None,
) -> CreditEntry:
    """Take one credit from the usable grant that expires first (for the booking's session
    type, when a booking is given without a type). Refused with ``no_credits`` when none is."""
    if session_type is None and booking is not None:
        session_type = booking.session.session_type_id
    with transaction.atomic():
        _lock_client(client)
        source = usable_grants(client, now=now, session_type=session_type).first()
        if source is None:
            raise NoCredits()
        return CreditEntry.objects.create(
            client=client,
            kind=CreditKind.SPEND,
            amount=-1,
            package=source.package,
            grant=source,
            booking=booking,
            created_by=actor,
        )


def give_back(spend_entry: CreditEntry, *, actor: User | None = None, note: str = "") -> CreditEntry:
    """Return a spent credit to the grant it came from (so it keeps that grant's expiry).
    Once per spend: a second return of the same spend is refused (``already_returned``)."""
    if spend_entry.pk is None or spend_entry.kind != CreditKind.SPEND:
        raise DomainError(_("Only spent credits can be given back."), code="not_a_spend")
    note = str(note or "").strip()
    if len(note) > CreditEntry._meta.get_field("note").max_length:
        raise DomainError(_("The note is too long (at most 200 characters)."), field="note")
    with transaction.atomic():
        _lock_client(spend_entry.client)
        # A return names no spend (the model has no such field): the spends and returns of the
        # same grant for the same booking (or for no booking) pair up one to one.
        same = CreditEntry.objects.filter(
            client_id=spend_entry.client_id, grant_id=spend_entry.grant_id, booking_id=spend_entry.booking_id
        )
        spent = -(same.filter(kind=CreditKind.SPEND).aggregate(total=Sum("amount"))["total"] or 0)
        returned = same.filter(kind=CreditKind.REFUND).aggregate(total=Sum("amount"))["total"] or 0
        if returned + (-spend_entry.amount) > spent:
            raise CreditRefused(_("This credit has already been given back."), code="already_returned")
        return CreditEntry.objects.create(
            client_id=spend_entry.client_id,
            kind=CreditKind.REFUND,
            amount=-spend_entry.amount,
            package_id=spend_entry.package_id,
            grant_id=spend_entry.grant_id,
            booking_id=spend_entry.booking_id,
            note=note,
            created_by=actor,
        )


def expire_due(now: dt.datetime | None = None) -> int:
    """Write an expiry entry for what is left of every grant past its expiry; returns how
    many were written (run again, nothing more is)."""
    now = _now(now)
    due = _with_remaining(CreditEntry.objects.filter(kind=CreditKind.GRANT, expires_at__lte=now)).filter(
        remaining__gt=0
    )
    written = 0
    for grant_id, client_id in due.order_by("client_id", "pk").values_list("pk", "client_id"):
        with transaction.atomic():
            _lock_client(User(pk=client_id))
            left = _with_remaining(CreditEntry.objects.filter(pk=grant_id)).values_list("remaining", flat=True).first()
            if not left or left <= 0:
                continue
            source = CreditEntry.objects.get(pk=grant_id)
            CreditEntry.objects.create(
                client_id=client_id,
                kind=CreditKind.EXPIRE,
                amount=-left,
                package_id=source.package_id,
                grant=source,
                note="",
            )
            written += 1
    return written
