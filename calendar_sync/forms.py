from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from calendar_sync.models import CalendarConnection
from config import outbound

MAX_CONNECTIONS = 10


class ConnectForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("How you will recognise it here: “Personal”, “Family”…"),
    )
    url = forms.CharField(
        label=_("Calendar address"),
        max_length=2000,
        help_text=_(
            "The calendar's secret address in iCal format: Google Calendar → Settings → your calendar → “Secret "
            "address in iCal format”; Apple → Share calendar → Public calendar; Outlook → Settings → Shared "
            "calendars → Publish a calendar → ICS. It starts with https:// or webcal://."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"}),
    )
    all_day_busy = forms.BooleanField(
        label=_("All-day events make me busy"),
        required=False,
        initial=True,
        help_text=CalendarConnection._meta.get_field("all_day_busy").help_text,
    )
    free_busy = forms.BooleanField(
        label=_("Events shown as free make me busy"),
        required=False,
        help_text=CalendarConnection._meta.get_field("free_events_busy").help_text,
    )

    def __init__(self, *args, coach, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.coach = coach

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            url = outbound.check_address(url)
        except outbound.OutboundError as error:
            raise forms.ValidationError(error.message, code=error.reason) from error
        if CalendarConnection.objects.filter(coach=self.coach, url=url).exists():
            raise forms.ValidationError(_("This calendar is connected already."), code="duplicate")
        return url

    def clean(self):
        cleaned = super().clean()
        if CalendarConnection.objects.filter(coach=self.coach).count() >= MAX_CONNECTIONS:
            raise forms.ValidationError(
                _("You can connect up to %(count)s calendars; remove one first.") % {"count": MAX_CONNECTIONS},
                code="too_many",
            )
        return cleaned
