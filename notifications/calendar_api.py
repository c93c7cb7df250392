"""The caller's calendar feed over the API: its private address, and a new one."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from notifications import feeds

router = Router(tags=["calendar"])


class CalendarFeedOut(Schema):
    url: str = Field(description="Your private iCal feed (https). Anyone with it can read your sessions.")
    webcal_url: str = Field(description="The same address as webcal://, which calendar apps open as a subscription.")


def _addresses(user, feed=None) -> CalendarFeedOut:
    url, webcal = feeds.feed_addresses(user, feed)
    return CalendarFeedOut(url=url, webcal_url=webcal)


@router.get("/me/calendar-feed", response=CalendarFeedOut, summary="Your calendar feed's address")
def calendar_feed(request: HttpRequest) -> CalendarFeedOut:
    return _addresses(request.auth)


@router.post(
    "/me/calendar-feed/rotate",
    response=CalendarFeedOut,
    summary="Change your calendar feed's address",
    description="The old address stops working at once; update it in your calendar app.",
)
def rotate_calendar_feed(request: HttpRequest) -> CalendarFeedOut:
    return _addresses(request.auth, feeds.rotate_feed(request.auth))
