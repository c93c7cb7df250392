"""Every write that books, answers, moves or ends a session.

Each service runs in one transaction that locks what it depends on (the coach's and the
client's user rows, the session row for seats), re-checks the rules against what is in the
database now, writes, and records a ``BookingEvent`` with its actor — the outbox that the
relay (``bookings.relay``) hands to every consumer after the commit; no side effect
(message, reminder, …) runs inside the change's transaction. SQLite serialises writers with
``BEGIN IMMEDIATE``; PostgreSQL has row locks plus exclusion and check constraints, so an
overlap is impossible even if a check here were wrong. A refusal is a ``DomainError`` with
one of the stable codes below, and leaves nothing half-written.
"""

from bookings.services.booking import book_slot, drop_plan, schedule_later
from bookings.services.changes import cancel, cancel_by_system, reschedule
from bookings.services.common import (
    MAX_ALTERNATIVES,
    MSG_CLIENT_CONFLICT,
    MSG_FAILED,
    MSG_SLOT_TAKEN,
    REQUEST_EXPIRY,
    BookingRefused,
    can_act_for_client,
    is_manager,
)
from bookings.services.group import (
    cancel_session,
    hold_seats,
    lock_session,
    publish_session,
    release_held_seat,
    take_seat,
)
from bookings.services.lifecycle import (
    can_start,
    complete_past_sessions,
    mark_completed,
    mark_no_show,
    mark_started,
    rate,
)
from bookings.services.requests import (
    accept_alternative,
    answer_information,
    approve,
    decline,
    decline_alternatives,
    expire_requests,
    request_information,
    suggest_alternatives,
)
from bookings.services.session_types import (
    check_session_type,
    create_session_type,
    duplicate_session_type,
    move_session_type,
    reorder_session_types,
    update_session_type,
)

__all__ = [
    "MAX_ALTERNATIVES",
    "MSG_CLIENT_CONFLICT",
    "MSG_FAILED",
    "MSG_SLOT_TAKEN",
    "REQUEST_EXPIRY",
    "BookingRefused",
    "accept_alternative",
    "answer_information",
    "approve",
    "book_slot",
    "can_act_for_client",
    "can_start",
    "cancel",
    "cancel_by_system",
    "cancel_session",
    "check_session_type",
    "complete_past_sessions",
    "create_session_type",
    "decline",
    "decline_alternatives",
    "drop_plan",
    "duplicate_session_type",
    "expire_requests",
    "hold_seats",
    "is_manager",
    "lock_session",
    "mark_completed",
    "mark_no_show",
    "mark_started",
    "move_session_type",
    "publish_session",
    "rate",
    "release_held_seat",
    "reorder_session_types",
    "request_information",
    "reschedule",
    "schedule_later",
    "suggest_alternatives",
    "take_seat",
    "update_session_type",
]
