from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def viewer(request: HttpRequest) -> dict[str, Any]:
    """The viewer's zone, for the “Times shown in …” line of every page."""
    return {"viewer_timezone": getattr(request, "viewer_timezone", "UTC")}
