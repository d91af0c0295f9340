"""Participant forms. They only parse input; the services enforce the rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from workbench.deliberation.models import Principle, VoteChoice
from workbench.deliberation.services.participants import (
    DEMOGRAPHIC_FIELDS,
    DEMOGRAPHIC_MAX_LENGTH,
)

AGE_RANGES = [
    ("", _("Prefer not to say")),
    ("under 18", _("Under 18")),
    ("18-24", "18\u201324"),
    ("25-34", "25\u201334"),
    ("35-44", "35\u201344"),
    ("45-54", "45\u201354"),
    ("55-64", "55\u201364"),
    ("65+", _("65 or over")),
]


class JoinForm(forms.Form):
    consent = forms.BooleanField(
        required=False,
        label=_("I agree that the details below are stored with my votes."),
        help_text=_(
            "They are used only to compare how different groups see the principles. "
            "Without this box ticked, nothing about you is kept."
        ),
    )
    age_range = forms.ChoiceField(
        required=False, choices=AGE_RANGES, label=_("Age range")
    )
    gender = forms.CharField(
        required=False,
        max_length=DEMOGRAPHIC_MAX_LENGTH,
        label=_("Gender, in your own words"),
    )
    self_description = forms.CharField(
        required=False,
        max_length=DEMOGRAPHIC_MAX_LENGTH,
        label=_("How would you describe yourself?"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    location = forms.CharField(
        required=False,
        max_length=DEMOGRAPHIC_MAX_LENGTH,
        label=_("Where do you live? (country or region)"),
    )

    def demographics(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(key) or "" for key in DEMOGRAPHIC_FIELDS}

    def gave_details_without_consent(self) -> bool:
        return not self.cleaned_data["consent"] and any(self.demographics().values())


class ProposeForm(forms.Form):
    text = forms.CharField(
        label=_("Your principle"),
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
        # The service normalises whitespace and enforces the limit with a clear message.
        strip=True,
    )
    confirm_similar = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = settings.WORKBENCH["PRINCIPLE_MAX_LENGTH"]
        self.fields["text"].help_text = _("Up to %(limit)s characters.") % {
            "limit": limit
        }


class VoteForm(forms.Form):
    principle = forms.IntegerField(min_value=1)
    choice = forms.TypedChoiceField(choices=VoteChoice.choices, coerce=int)
    client_token = forms.UUIDField(required=False)
    # The language of the facilitator's translation the page showed, if any; the
    # vote service keeps it only when it is one of settings.LANGUAGES.
    shown_language = forms.CharField(required=False, max_length=16)


class RankForm(forms.Form):
    """One position per shortlisted principle (the page without JavaScript)."""

    def __init__(
        self, *args: Any, principles: Sequence[Principle], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.principles = list(principles)
        for principle in self.principles:
            self.fields[self.field_name(principle.pk)] = forms.IntegerField(
                min_value=1,
                max_value=len(self.principles),
                label=_("Position"),
            )

    @staticmethod
    def field_name(pk: int) -> str:
        return f"position_{pk}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        positions = [cleaned.get(self.field_name(p.pk)) for p in self.principles]
        if None in positions:
            return cleaned
        if len(set(positions)) != len(positions):
            raise forms.ValidationError(_("Give each principle a different position."))
        return cleaned

    def ranking(self) -> list[int]:
        """Principle ids, best first."""
        return sorted(
            (p.pk for p in self.principles),
            key=lambda pk: self.cleaned_data[self.field_name(pk)],
        )
