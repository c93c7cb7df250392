"""The sentences the pages app stores as a booking's cancellation reason: kept in English,
shown in the reader's language (``config.stored_text``)."""

from django.utils.translation import gettext_noop

from config.stored_text import sentence

ACCOUNT_CLOSED = sentence(gettext_noop("The client's account was closed."))
