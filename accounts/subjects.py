"""Subjects and qualifications coaches declare (a tutor's "Mathematics", a therapist's
"Couples therapy"): the one write, ``set_coach_subjects``.

A coach picks from the subjects that exist and may add a new one by name. A name is
trimmed (inner runs of spaces become one) and compared without regard to case: a new name
that matches an existing subject ("mathematics" when "Mathematics" exists) is refused with
a message that says to tick the existing one, so the directory's filter never lists the
same subject twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import CoachProfile, Subject, User
from config.errors import DomainError, NotAllowed
from config.inputs import check_text

NAME_LIMIT = 80


def clean_subject_name(name: str, *, field: str = "new_subject") -> str:
    """``name`` trimmed, refused when empty of words, too long, or the name of a subject
    that exists (whatever its case)."""
    name = " ".join(str(name).split())
    if not name:
        raise DomainError(_("Give the subject a name."), code="invalid", field=field)
    check_text(name, NAME_LIMIT, field=field)
    existing = Subject.objects.filter(name__iexact=name).first()
    if existing is not None:
        raise DomainError(
            _("“%(name)s” is already a subject: tick it in the list instead.") % {"name": existing.name},
            code="invalid",
            field=field,
        )
    return name


def set_coach_subjects(
    *, profile: CoachProfile, actor: User, subjects: Iterable[Subject], new_name: str = ""
) -> list[Subject]:
    """The coach's subjects become ``subjects``, plus a new subject named ``new_name`` (when
    not blank), all at once. The coach themself or staff."""
    if actor.pk != profile.user_id and not actor.is_staff_member:
        raise NotAllowed(_("You can only change your own subjects."))
    chosen = list(subjects)
    name = clean_subject_name(new_name) if new_name.strip() else ""
    try:
        with transaction.atomic():
            if name:
                chosen.append(Subject.objects.create(name=name))
            profile.subjects.set(chosen)
    except IntegrityError:  # the same name added at the same moment by someone else
        raise DomainError(
            _("“%(name)s” is already a subject: tick it in the list instead.") % {"name": name},
            code="invalid",
            field="new_subject",
        ) from None
    return sorted(chosen, key=lambda subject: subject.name.lower())
