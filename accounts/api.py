from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

router = Router(tags=["me"])


class MeOut(Schema):
    id: int
    email: str
    name: str
    role: str
    timezone: str


@router.get("/me", response=MeOut, summary="The signed-in user")
def me(request: HttpRequest) -> MeOut:
    user = request.auth
    return MeOut(id=user.pk, email=user.email, name=user.name, role=user.role, timezone=user.timezone)
