"""The sentences the webhooks app stores as an endpoint's ``disabled_reason``: kept in
English, shown in the reader's language (``config.stored_text``)."""

from django.utils.translation import gettext_noop

from config.stored_text import Template, sentence

DISABLED_BY_STAFF = sentence(gettext_noop("Disabled by staff."))
DISABLED_BY = Template(gettext_noop("Disabled by %(name)s."))
DELIVERIES_FAILED = Template(gettext_noop("Deliveries failed for a day; the last one: %(error)s"))
