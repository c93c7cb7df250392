"""The booking wizard's forms: what a person adds when confirming a time or a seat."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User

NOTES_MAX = 2000
PROMO_MAX = 40


class BookingForm(forms.Form):
    """Notes to the coach, reminders, and for guardians whom the session is for.

    ``people`` lists who the viewer may book for, themself first; with only themself the
    _lazy("Book for") choice is left out and the booking is theirs."""

    book_for = forms.TypedChoiceField(label=_lazy("Book for"), coerce=int, required=False)
    notes = forms.CharField(
        label=_lazy("Notes to the coach"),
        required=False,
        max_length=NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _lazy("Anything the coach should know beforehand")}),
    )
    reminders = forms.BooleanField(label=_lazy("Send me reminders before the session"), required=False, initial=True)
    # Shown only for a priced type with payments on (the confirm step's quote).
    promo_code = forms.CharField(label=_lazy("Promotion code"), required=False, max_length=PROMO_MAX)

    def __init__(self, *args: object, people: list[User], without_self: bool = False, **kwargs: object) -> None:
        """``without_self``: the viewer already holds a seat, so only their dependents
        (``people`` after the first) are offered."""
        super().__init__(*args, **kwargs)
        self_label = gettext("Myself")
        if without_self and len(people) > 1:
            people, self_label = people[1:], None
        self.people = {person.pk: person for person in people}
        if len(people) > 1 or self_label is None:
            self.fields["book_for"].required = True
            self.fields["book_for"].choices = [
                (person.pk, self_label if index == 0 and self_label else person.display_name)
                for index, person in enumerate(people)
            ]
            self.fields["book_for"].initial = people[0].pk
        else:
            del self.fields["book_for"]
        self._default = people[0]

    def promo(self) -> str:
        """The promotion code typed (after ``is_valid()``), or ""."""
        if not self.is_bound or (not self.is_valid() and "promo_code" in self.errors):
            return ""
        return (self.cleaned_data.get("promo_code") or "").strip()

    def client(self) -> User:
        """Who the session is for (call after ``is_valid()``)."""
        if "book_for" not in self.fields:
            return self._default
        return self.people.get(self.cleaned_data.get("book_for"), self._default)
