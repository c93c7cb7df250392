"""The sentences the waitlist stores in ``WaitlistEntry.end_reason``: kept in English,
shown in the reader's language (``config.stored_text``)."""

from django.utils.translation import gettext_noop

from config.stored_text import sentence

LEFT = sentence(gettext_noop("Left the waitlist."))
ALREADY_BOOKED = sentence(gettext_noop("Already has a place in this session."))
ACCEPTED = sentence(gettext_noop("Accepted the offer."))
DECLINED = sentence(gettext_noop("Declined the seat offered."))
OFFER_EXPIRED = sentence(gettext_noop("The offer expired unanswered."))
DATES_PASSED = sentence(gettext_noop("The dates given have passed."))
SESSION_CALLED_OFF = sentence(gettext_noop("The session was called off."))
SESSION_BEGUN = sentence(gettext_noop("The session has begun."))
