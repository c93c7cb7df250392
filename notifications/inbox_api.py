"""The caller's notifications over the API: newest first, paginated, and marking read."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema

from config.inputs import MAX_OFFSET, Input
from notifications import services
from notifications.models import Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    booking: str | None = Field(None, description="The booking's reference, when there is one.")
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    count: int
    unread: int
    results: list[NotificationOut]


class PageQuery(Input):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def notification_out(note: Notification) -> NotificationOut:
    return NotificationOut(
        id=note.pk,
        kind=note.kind,
        title=note.title,
        body=note.body,
        booking=note.booking.reference if note.booking_id else None,
        created_at=note.created_at,
        read_at=note.read_at,
    )


@router.get("/notifications", response=NotificationPage, summary="Your notifications, newest first")
def list_notifications(request: HttpRequest, query: Query[PageQuery]) -> NotificationPage:
    mine = Notification.objects.filter(recipient=request.auth)
    page = mine.select_related("booking")[query.offset : query.offset + query.limit]
    return NotificationPage(
        count=mine.count(),
        unread=services.unread_count(request.auth),
        results=[notification_out(note) for note in page],
    )


@router.post("/notifications/{notification_id}/read", response=NotificationOut, summary="Mark one read")
def read_notification(request: HttpRequest, notification_id: int) -> NotificationOut:
    if notification_id > 2**62 or not services.mark_read(user=request.auth, notification_id=notification_id):
        raise Http404(gettext("No such notification."))
    return notification_out(Notification.objects.select_related("booking").get(pk=notification_id))
