"""The caller's calendar feed over the API."""

from ninja import Router

router = Router(tags=["calendar"])
