"""The sentences the payments app stores as a refund's reason and a credit entry's note:
kept in English, shown in the reader's language (``config.stored_text``). A refund staff
give with a reason they type keeps their words."""

from django.utils.translation import gettext_noop

from config.stored_text import Template, sentence

# Refunds.
NOT_BOOKED = sentence(gettext_noop("The booking was not made; the payment is given back."))
PAID_AFTER_HOLD = sentence(gettext_noop("Paid after the booking's hold ended; the booking did not go ahead."))
ALREADY_ENROLLED = sentence(gettext_noop("Already enrolled in this programme."))
AT_PROVIDER = sentence(gettext_noop("Refunded at the payment provider."))
REQUEST_DECLINED = sentence(gettext_noop("Request declined"))
LATE_CANCELLATION = sentence(gettext_noop("Late cancellation (the session type's late-cancellation share)"))
CANCELLED = sentence(gettext_noop("Cancelled"))
# ``why`` is one of the three above.
SERIES_SHARE = Template(gettext_noop("%(why)s: session %(ref)s of a series paid up front"))
SHARE_NOT_TAKING_PLACE = Template(
    gettext_noop("Session %(ref)s no longer takes place: its share of the series payment is given back.")
)
SHARE_ALREADY_PAID = Template(
    gettext_noop("Session %(ref)s was already paid: its share of the series payment is given back.")
)

# Credit entries' notes.
CREDITS_BACK = Template(gettext_noop("Booking %(ref)s cancelled"))
BOUGHT = Template(gettext_noop("Bought: %(title)s"))

# A booking's cancellation reason (``bookings.services.payment_lapsed``).
CLIENT_CANCELLED_BEFORE_PAYING = sentence(gettext_noop("The client cancelled before paying."))
