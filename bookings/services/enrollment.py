"""Programmes and enrollments: a session type that asks for an enrollment is booked only by
a client enrolled in a programme that includes it, within the programme's allowance.

The allowance used is the number of the enrollment's bookings that hold or held a place
(active, completed or no-show); cancelled, declined and lapsed ones give it back. It is
counted under the client's row lock, in the booking's transaction, so two bookings at once
cannot both take the last session of an allowance.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Enrollment,
    EnrollmentSource,
    Programme,
    SessionType,
)
from bookings.services.common import BookingRefused
from config.errors import DomainError, NotAllowed

# The bookings that use up a session of an allowance.
USING_ALLOWANCE = (*ACTIVE_STATUSES, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)

MSG_NOT_ENROLLED = gettext_noop("You must be enrolled to book.")  # seed 004's text
MSG_NO_CREDITS = gettext_noop("Insufficient credits.")  # seed 003's text


def _open(now: dt.datetime) -> Q:
    return Q(ended_at__isnull=True, starts_at__lte=now) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def enrollments_for(client: User, session_type: SessionType, *, now: dt.datetime | None = None) -> list[Enrollment]:
    """The client's open enrollments that cover ``session_type``, each with ``used`` (the
    allowance spent), soonest-ending first."""
    now = now or timezone.now()
    return list(
        Enrollment.objects.filter(_open(now), client=client, programme__session_types=session_type)
        .select_related("programme")
        .annotate(used=Count("bookings", filter=Q(bookings__status__in=USING_ALLOWANCE), distinct=True))
        .order_by("ends_at", "pk")
    )


def check_enrollment(client: User, session_type: SessionType, *, now: dt.datetime | None = None) -> Enrollment | None:
    """The enrollment a booking of ``session_type`` uses, or ``None`` when the type asks
    for none. Refuses with ``not_enrolled`` or ``no_credits`` (an exhausted allowance).
    Call it under the client's row lock to count exactly."""
    if not session_type.requires_enrollment:
        return None
    found = enrollments_for(client, session_type, now=now)
    if not found:
        raise BookingRefused(_(MSG_NOT_ENROLLED), code="not_enrolled")
    for enrollment in found:
        if enrollment.used < enrollment.programme.allowance:
            return enrollment
    raise BookingRefused(_(MSG_NO_CREDITS), code="no_credits")


def sessions_left(enrollment: Enrollment) -> int:
    used = getattr(enrollment, "used", None)
    if used is None:
        used = enrollment.bookings.filter(status__in=USING_ALLOWANCE).count()
    return max(enrollment.programme.allowance - used, 0)


def enroll(
    *,
    client: User,
    programme: Programme,
    actor: User | None,
    source: str,
    now: dt.datetime | None = None,
) -> Enrollment:
    """Enroll ``client`` in ``programme`` from now for its validity. Staff enroll anyone,
    a coach enrolls in their own programmes; a purchase enrolls the buyer (``actor`` is then
    the client or None, the payment side calls it). One open enrollment per programme."""
    now = now or timezone.now()
    if source == EnrollmentSource.STAFF and not (actor and actor.is_staff_member):
        raise NotAllowed()
    if source == EnrollmentSource.COACH and not (actor and actor.pk == programme.coach_id):
        raise NotAllowed()
    if not programme.is_active and source == EnrollmentSource.PURCHASE:
        raise DomainError(_("This programme is not open for enrollment."), code="invalid", status=409)
    try:
        with transaction.atomic():
            return Enrollment.objects.create(
                client=client,
                programme=programme,
                source=source,
                enrolled_by=actor,
                starts_at=now,
                ends_at=now + dt.timedelta(days=programme.validity_days),
            )
    except IntegrityError:
        raise DomainError(
            _("%(name)s is already enrolled in this programme.") % {"name": client.display_name},
            code="already_enrolled",
            status=409,
        ) from None


def end_enrollment(*, enrollment: Enrollment, actor: User, now: dt.datetime | None = None) -> Enrollment:
    """Staff or the programme's coach end an enrollment early; its bookings stay."""
    if not (actor.is_staff_member or actor.pk == enrollment.programme.coach_id):
        raise NotAllowed()
    if enrollment.ended_at is None:
        enrollment.ended_at = now or timezone.now()
        enrollment.save(update_fields=["ended_at"])
    return enrollment


def uses_allowance(booking: Booking) -> bool:
    return booking.enrollment_id is not None
