"""How much of a booking's payment comes back when it ends early (issue 16, point 4), in
whole minor units — the rule alone, so pages can show it before anyone confirms.

- The coach or staff cancel, the coach declines a request, or a workshop is called off:
  everything paid comes back.
- The client cancels within the cancellation notice: everything comes back.
- The client cancels late (the type allows it, the booking is marked late): the share the
  type promised when the booking was made (``Booking.late_refund_percent``), rounded down to
  the minor unit, so a refund never exceeds the policy.
- Whatever was refunded already is taken off; a refund is never negative.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RefundCase:
    paid_minor: int  # what was collected
    refunded_minor: int = 0  # what has come back already
    by_client: bool = True  # the client (or who booked for them) ended it
    late: bool = False  # inside the cancellation notice
    late_percent: int = 0  # the policy recorded with the booking


def refund_due(case: RefundCase) -> int:
    """What to refund now, in minor units (0 or more)."""
    if case.paid_minor < 0 or case.refunded_minor < 0 or not 0 <= case.late_percent <= 100:
        raise ValueError("amounts are not negative and the late share is 0-100 %")
    due = case.paid_minor
    if case.by_client and case.late:
        due = case.paid_minor * case.late_percent // 100
    return max(due - case.refunded_minor, 0)
