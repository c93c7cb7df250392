"""The gateways' webhook endpoints: no session, no CSRF token (the signature is the proof),
plain JSON answers."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments.gateways import InvalidWebhook
from payments.models import Backend
from payments.webhooks import receive


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        outcome = receive(Backend.STRIPE, request.body, request.headers)
    except InvalidWebhook as exc:
        return JsonResponse({"error": {"code": exc.code, "message": exc.message}}, status=exc.status)
    return JsonResponse({"received": True, "outcome": outcome})
