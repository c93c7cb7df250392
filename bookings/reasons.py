"""The sentences the booking services store as a booking's decline or cancellation reason
and in its history's notes: kept in English, shown in the reader's language
(``config.stored_text``). Other apps that end a booking store their own (``pages.reasons``,
``payments.reasons``)."""

from django.utils.translation import gettext_noop

from config.stored_text import Template, ngettext_noop, sentence

REQUEST_UNANSWERED = sentence(gettext_noop("The request was not answered in time."))
SESSION_PASSED_UNANSWERED = sentence(gettext_noop("The session time passed without an answer."))
ALTERNATIVES_DECLINED = sentence(gettext_noop("The client declined the suggested times."))
PAYMENT_NOT_COMPLETED = sentence(gettext_noop("The payment was not completed in time."))
WORKSHOP_SHORTFALL = Template(
    *ngettext_noop(
        "Called off: %(booked)s person had booked by the deadline, and it needs at least %(minimum)s.",
        "Called off: %(booked)s people had booked by the deadline, and it needs at least %(minimum)s.",
    ),
    count="booked",
)
