"""What erasing a person, and the retention policy, remove from intake: the private notes
coaches wrote about them (and, for an erased coach, the notes they wrote), their intake
answers and uploaded files, and the address their consents were accepted from.

The consent records themselves stay (who accepted which version, when: the proof a practice
may have to show), pointing at the anonymised account. Called by ``pages.erasure`` (the top
layer, which combines every app); nothing here imports above ``intake``.
"""

from __future__ import annotations

import datetime as dt

from accounts.models import User
from intake.models import CoachNote, ConsentRecord
from intake.services import delete_responses_before, delete_responses_of


def erase_person(user: User) -> dict[str, int]:
    """Remove what intake keeps about ``user``. Idempotent: a second run finds nothing."""
    notes = CoachNote.objects.filter(client=user).delete()[0]
    notes += CoachNote.objects.filter(coach=user).delete()[0]
    addresses = ConsentRecord.objects.filter(client=user).exclude(ip_address=None).update(ip_address=None)
    answers = delete_responses_of(user)
    return {"coach_notes": notes, "consent_addresses": addresses, "intake_answers": answers}


def delete_old_notes(cutoff: dt.datetime, *, dry_run: bool = False) -> int:
    """Coach notes last changed before ``cutoff`` (the retention policy)."""
    old = CoachNote.objects.filter(updated_at__lt=cutoff)
    if dry_run:
        return old.count()
    return old.delete()[0]


def delete_old_answers(cutoff: dt.datetime, *, dry_run: bool = False) -> int:
    """Intake answers (and their files) last changed before ``cutoff`` (the retention policy)."""
    return delete_responses_before(cutoff, dry_run=dry_run)
