"""The record that a person's account was (or is to be) erased: when it was asked, when it is
due, when it was done, and by what (the person's request, or the retention policy). It holds
no personal data: the account is named by its internal id alone (the account row stays,
anonymised, so past bookings keep their client for the coach's accounting and reports)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ErasureStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the grace period to end")
    CANCELLED = "cancelled", _("Cancelled by the person")
    DONE = "done", _("Erased")


class ErasureSource(models.TextChoices):
    REQUEST = "request", _("The person's request")
    RETENTION = "retention", _("Retention policy (inactive account)")


class Blocked(models.TextChoices):
    """Why a due erasure waits (machine codes; the words are in ``pages.erasure``)."""

    NONE = "", _("Nothing")
    STAFF = "staff", _("A staff account")
    HOSTS_SESSIONS = "hosts_sessions", _("Hosts sessions still to come")


class ErasureRecord(models.Model):
    """The account is named by its id, not by a foreign key, so the record outlives any
    change to the account's row."""

    account_id = models.PositiveBigIntegerField(_("account id"), db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=ErasureSource.choices, default=ErasureSource.REQUEST)
    status = models.CharField(
        _("status"), max_length=16, choices=ErasureStatus.choices, default=ErasureStatus.PENDING, db_index=True
    )
    requested_at = models.DateTimeField(_("requested"))
    due_at = models.DateTimeField(_("due"), db_index=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    done_at = models.DateTimeField(_("erased"), null=True, blank=True)
    blocked = models.CharField(_("waiting because"), max_length=32, choices=Blocked.choices, blank=True)
    removed = models.JSONField(_("what was removed (counts)"), default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        constraints = [
            models.UniqueConstraint(
                fields=["account_id"], condition=Q(status="pending"), name="erasure_one_pending_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"Erasure {self.pk} of account {self.account_id}"

    @property
    def user(self):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=self.account_id).first()
