from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from webhooks import services
from webhooks.models import EventType, WebhookEndpoint


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Endpoint address"),
        max_length=2000,
        help_text=_(
            "Where each event is sent as a signed POST with a JSON body, e.g. a Zapier or Make “catch hook” "
            "address, or your own server's. It starts with https://."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("How you will recognise it here: “CRM”, “Zapier: new clients”…"),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events to send"),
        choices=[(value, format_lazy("{} — {}", value, label)) for value, label in EventType.choices],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event to send.")},
    )

    def __init__(self, *args, endpoint: WebhookEndpoint | None = None, **kwargs) -> None:
        if endpoint is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": endpoint.event_types,
            }
        super().__init__(*args, **kwargs)
        self.endpoint = endpoint

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if self.endpoint is not None and url == self.endpoint.url:
            return url  # unchanged: checked again at each send
        try:
            return services.check_url(url)
        except services.WebhookError as error:
            raise forms.ValidationError(error.message, code=error.code) from error
