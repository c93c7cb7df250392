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


class CalDavForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("How you will recognise it here: “Work”…"))
    url = forms.CharField(
        label=_("CalDAV server"),
        max_length=2000,
        help_text=_(
            "iCloud: https://caldav.icloud.com/ · Fastmail: https://caldav.fastmail.com/ · Nextcloud: "
            "https://your-cloud/remote.php/dav/ · Google: https://apidata.googleusercontent.com/caldav/v2/"
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"}),
    )
    username = forms.CharField(
        label=_("User name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    password = forms.CharField(
        label=_("App password"),
        max_length=200,
        strip=False,
        help_text=_("Use an app-specific password where your provider offers one. It is stored encrypted."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    write = forms.BooleanField(
        label=_("Write my bookings into this calendar"),
        required=False,
        initial=True,
        help_text=_("Each booking appears in your calendar and follows its moves and cancellations."),
    )
    private = forms.BooleanField(
        label=_("Hide the details"),
        required=False,
        help_text=CalendarConnection._meta.get_field("private_details").help_text,
    )

    def __init__(self, *args, coach, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.coach = coach

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            return outbound.check_address(url)
        except outbound.OutboundError as error:
            raise forms.ValidationError(error.message, code=error.reason) from error

    def clean(self):
        cleaned = super().clean()
        if CalendarConnection.objects.filter(coach=self.coach).count() >= MAX_CONNECTIONS:
            raise forms.ValidationError(
                _("You can connect up to %(count)s calendars; remove one first.") % {"count": MAX_CONNECTIONS},
                code="too_many",
            )
        return cleaned


class CalendarsForm(forms.Form):
    """Which of a CalDAV account's calendars make the coach busy, which one the bookings go
    into, whether their details are hidden."""

    read = forms.MultipleChoiceField(
        label=_("Read for busy times"), required=False, widget=forms.CheckboxSelectMultiple
    )
    write_url = forms.ChoiceField(label=_("Write my bookings into"), required=False)
    private = forms.BooleanField(
        label=_("Hide the details"),
        required=False,
        help_text=CalendarConnection._meta.get_field("private_details").help_text,
    )

    def __init__(self, *args, connection: CalendarConnection, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                "read": [item["url"] for item in connection.calendars if item.get("read", True)],
                "write_url": connection.write_url,
                "private": connection.private_details,
            },
        )
        super().__init__(*args, **kwargs)
        choices = [(item["url"], item["name"]) for item in connection.calendars]
        self.fields["read"].choices = choices
        self.fields["write_url"].choices = [("", _("None: don't write my bookings")), *choices]
