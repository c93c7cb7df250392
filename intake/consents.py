"""Consent and agreements: the documents a client accepts before booking, their versions,
and the record of each acceptance.

A coach writes their own documents; staff write site-wide ones (``owner`` empty), asked
before booking with any coach. A version, once published, is never changed: a change is a
new version, and every client is asked again at their next booking. The booking wizard and
the API ask through ``bookings.gates`` (``ConsentGate``, registered from
``IntakeConfig.ready``), so bookings never imports this app.
"""

from __future__ import annotations

import ipaddress

from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.gates import Item
from bookings.models import Booking
from config.errors import DomainError, NotAllowed
from intake.models import (
    CONSENT_BODY_MAX_LENGTH,
    ConsentDocument,
    ConsentKind,
    ConsentRecord,
    ConsentVersion,
)

GATE = "consent"


# ---------------------------------------------------------------------------------------
# Who manages which documents
# ---------------------------------------------------------------------------------------


def manages_site_wide(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff_member)


def may_manage(user: User) -> bool:
    """Coaches manage their own documents; staff the site-wide ones."""
    return bool(user.is_authenticated and (user.is_coach or user.is_staff_member))


def documents_of(user: User) -> QuerySet[ConsentDocument]:
    """The documents ``user`` manages: a coach's own, or staff's site-wide ones."""
    if not user.is_authenticated:
        return ConsentDocument.objects.none()
    if user.is_coach:
        return ConsentDocument.objects.filter(owner=user)
    if manages_site_wide(user):
        return ConsentDocument.objects.filter(owner__isnull=True)
    return ConsentDocument.objects.none()


def own_document(user: User, pk: int) -> ConsentDocument:
    document = documents_of(user).filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    return document


def records_of(user: User) -> QuerySet[ConsentRecord]:
    """The acceptances of the documents ``user`` manages, newest first."""
    return ConsentRecord.objects.filter(version__document__in=documents_of(user)).select_related(
        "client", "accepted_by", "version", "version__document"
    )


def records_for_client(client: User) -> QuerySet[ConsentRecord]:
    """What ``client`` accepted, and what they accepted for their dependents."""
    if not client.is_authenticated:
        return ConsentRecord.objects.none()
    return ConsentRecord.objects.filter(Q(client=client) | Q(accepted_by=client)).select_related(
        "client", "version", "version__document", "version__document__owner"
    )


def current_version(document: ConsentDocument) -> ConsentVersion | None:
    return document.versions.order_by("-number").first()


# ---------------------------------------------------------------------------------------
# Writing documents and publishing versions
# ---------------------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise DomainError(_("Write the document's text."), code="empty", field="body")
    if len(body) > CONSENT_BODY_MAX_LENGTH:
        raise DomainError(
            _("A document holds at most %(max)s characters.") % {"max": f"{CONSENT_BODY_MAX_LENGTH:,}"},
            code="too_long",
            field="body",
        )
    return body


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Give the document a title."), code="empty", field="title")
    return title[:200]


def create_document(
    *, actor: User, kind: str, title: str, body: str, required_before_booking: bool = True
) -> ConsentDocument:
    """A new document with its first version, published at once. A coach's is their own;
    staff's is site-wide."""
    if not may_manage(actor):
        raise NotAllowed(_("Only coaches and staff write consent documents."))
    if kind not in ConsentKind.values:
        raise DomainError(_("Choose what kind of document this is."), code="invalid", field="kind")
    title, body = _clean_title(title), _clean_body(body)
    with transaction.atomic():
        document = ConsentDocument.objects.create(
            owner=actor if actor.is_coach else None,
            kind=kind,
            title=title,
            required_before_booking=required_before_booking,
        )
        ConsentVersion.objects.create(
            document=document, number=1, body=body, published_at=timezone.now(), published_by=actor
        )
    return document


def publish_version(*, actor: User, document: ConsentDocument, body: str) -> ConsentVersion:
    """A new version of ``document`` (the next number): clients accept it at their next
    booking. The same text as the current version publishes nothing."""
    if not documents_of(actor).filter(pk=document.pk).exists():
        raise NotAllowed(_("You can only change your own documents."))
    body = _clean_body(body)
    with transaction.atomic():
        ConsentDocument.objects.select_for_update().filter(pk=document.pk).first()
        current = current_version(document)
        if current is not None and current.body == body:
            raise DomainError(
                _("The text is the same as the current version: nothing to publish."), code="unchanged", field="body"
            )
        return ConsentVersion.objects.create(
            document=document,
            number=(current.number if current else 0) + 1,
            body=body,
            published_at=timezone.now(),
            published_by=actor,
        )


def set_required(*, actor: User, document: ConsentDocument, required: bool) -> ConsentDocument:
    if not documents_of(actor).filter(pk=document.pk).exists():
        raise NotAllowed(_("You can only change your own documents."))
    document.required_before_booking = required
    document.save(update_fields=["required_before_booking"])
    return document


# ---------------------------------------------------------------------------------------
# What a client has yet to accept, and accepting it
# ---------------------------------------------------------------------------------------


def to_accept(client: User, coach: User) -> list[ConsentVersion]:
    """The current versions of the documents that apply to booking with ``coach`` (the
    site-wide ones, then the coach's) that ``client`` has not accepted."""
    newest = ConsentVersion.objects.filter(document=OuterRef("document")).values("document")
    newest = newest.annotate(top=Max("number")).values("top")
    versions = (
        ConsentVersion.objects.filter(
            Q(document__owner__isnull=True) | Q(document__owner=coach),
            document__required_before_booking=True,
            number=Subquery(newest),
        )
        .exclude(records__client=client)
        .select_related("document")
        .order_by("document__owner_id", "document__title", "document__pk")
    )
    return list(versions)


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def accept_versions(
    *, client: User, versions: list[ConsentVersion], by: User, address: str | None, booking: Booking | None = None
) -> list[ConsentRecord]:
    """Record that ``client`` accepted ``versions`` now (ticked by ``by``: the client, or
    their guardian), from ``address``. A version already accepted stays as it was."""
    now, address = timezone.now(), _address(address)
    records = []
    for version in versions:
        try:
            with transaction.atomic():
                record, _created = ConsentRecord.objects.get_or_create(
                    client=client,
                    version=version,
                    defaults={"accepted_by": by, "accepted_at": now, "ip_address": address, "booking": booking},
                )
        except IntegrityError:  # accepted in another tab at the same moment
            record = ConsentRecord.objects.get(client=client, version=version)
        records.append(record)
    return records


def _item(version: ConsentVersion) -> Item:
    title = version.document.title
    return Item(
        gate=GATE,
        key=f"{GATE}:{version.pk}",
        ident=version.pk,
        title=title,
        body=version.body,
        label=_("I have read and accept “%(title)s”.") % {"title": title},
        version=version.number,
    )


class ConsentGate:
    """The consent documents, as ``bookings.gates`` asks them."""

    name = GATE

    def pending(self, client: User, coach: User) -> list[Item]:
        return [_item(version) for version in to_accept(client, coach)]

    def accept(
        self, client: User, items: list[Item], *, by: User, address: str | None, booking: Booking | None
    ) -> None:
        versions = list(ConsentVersion.objects.filter(pk__in=[item.ident for item in items]))
        accept_versions(client=client, versions=versions, by=by, address=address, booking=booking)
