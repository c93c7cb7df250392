"""Forms of the client-tag pages. They read what was typed; every rule a tag keeps (names,
ranges, whose session types) is ``availability.tags``', and its refusals come back as
``DomainError``s shown beside their field (``show_refusal``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from availability import tags

APPROVAL_CHOICES = [
    ("", _("Usual rules")),
    ("never", _("Never needs approval")),
    ("always", _("Every booking is a request")),
]

# The number fields of a rule, with the input's bounds (the service checks them again).
NUMBER_FIELDS = {
    "minimum_notice_hours": (_("Minimum notice (hours)"), _("Clients can't book sooner than this.")),
    "booking_window_days": (_("Booking window (days)"), _("How far ahead they can book.")),
    "max_per_day": (_("Most sessions a day"), ""),
    "max_per_week": (_("Most sessions a week"), ""),
    "price_adjustment_percent": (_("Price adjustment (%)"), _("For example -20; used when payments are on.")),
    "waitlist_priority": (_("Waitlist priority bonus"), _("0–100 points; used when waitlists exist.")),
}


class TagForm(forms.Form):
    """A tag's name, description and priority (whose tag it is comes from the page)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=tags.NAME_LIMIT,
        error_messages={"required": _("Give the tag a name.")},
        help_text=_("A short label, e.g. “VIP”, “New client”, “Sliding scale”."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=tags.DESCRIPTION_LIMIT,
        help_text=_("What the tag means, for you and your colleagues."),
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        initial=0,
        error_messages={"required": _("Give the priority as a whole number, 0 to 100.")},
        widget=forms.NumberInput(attrs={"min": tags.PRIORITY_RANGE[0], "max": tags.PRIORITY_RANGE[1]}),
        help_text=_("When a client wears several tags whose rules disagree, the highest priority decides."),
    )

    def show_refusal(self, field: str, message: str) -> None:
        self.add_error(field if field in self.fields else None, message)


class RuleForm(forms.Form):
    """One rule of a tag: for every session type, for one type, or (``new``) for a type
    chosen from ``session_types``. Blank fields follow the usual rules; ``usual`` holds, per
    field, what applies then (shown as the placeholder)."""

    approval = forms.ChoiceField(label=_("Approval"), choices=APPROVAL_CHOICES, required=False)

    def __init__(
        self,
        *args: Any,
        title: str,
        session_type_id: int | None,
        session_types: Any = None,
        usual: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.title = title
        self.session_type_id = session_type_id
        self.is_new = session_types is not None
        for name, (label, help_text) in NUMBER_FIELDS.items():
            low, high = tags.RULE_BOUNDS[name]
            # Django formats the message with the limit ("%(limit_value)s"): a % of ours is doubled.
            out_of_range = tags.range_message(name).replace("%", "%%")
            attrs: dict[str, Any] = {"inputmode": "numeric"}
            if usual and usual.get(name) is not None:
                attrs["placeholder"] = usual[name]
            self.fields[name] = forms.IntegerField(
                label=label,
                required=False,
                help_text=help_text,
                widget=forms.NumberInput(attrs=attrs),
                min_value=low,
                max_value=high,
                error_messages={
                    "invalid": _("Give a whole number, or leave it blank."),
                    "min_value": out_of_range,
                    "max_value": out_of_range,
                },
            )
        if self.is_new:
            self.fields["session_type"] = forms.ModelChoiceField(
                label=_("Session type"),
                queryset=session_types,
                required=False,
                empty_label=_("Choose a session type"),
            )
            self.fields["session_type"].label_from_instance = lambda st: f"{st.coach.display_name} · {st.title}"
            self.order_fields(["session_type"])

    def spec(self) -> tags.RuleSpec | None:
        """The rule as typed (call after ``is_valid``); None for an unused new row."""
        data = self.cleaned_data
        type_id = self.session_type_id
        if self.is_new:
            chosen = data.get("session_type")
            if chosen is None:
                return None
            type_id = chosen.pk
        return tags.RuleSpec(
            session_type_id=type_id,
            approval=data.get("approval") or "",
            **{name: data.get(name) for name in NUMBER_FIELDS},
        )

    def show_refusal(self, field: str, message: str) -> None:
        self.add_error(field if field in self.fields else None, message)

    @property
    def is_set(self) -> bool:
        """Whether the row holds a rule (as typed, or as saved): its section opens."""
        if self.is_bound:
            return bool(self.errors) or any(self.data.get(self.add_prefix(name)) for name in self.fields)
        return any(self.initial.get(name) not in (None, "") for name in self.fields)

    @property
    def summary(self) -> str:
        """What the row sets now, in plain words (for the folded rows)."""
        if self.is_bound:
            return ""
        spec = tags.RuleSpec(
            approval=self.initial.get("approval") or "", **{name: self.initial.get(name) for name in NUMBER_FIELDS}
        )
        return "; ".join(tags.rule_phrases(spec))


class AssignForm(forms.Form):
    """Put a tag on a client or take it off (the clients page, the coach's clients list)."""

    client = forms.IntegerField(min_value=1)
    action = forms.ChoiceField(choices=[("add", "add"), ("remove", "remove")])
