"""Forms for the facilitator's translations of a principle. They only parse input;
the translations service checks and writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from workbench.deliberation.selectors.translations import language_names


def _language_choices() -> list[tuple[str, str]]:
    # Read when the form is built, so settings.LANGUAGES is never copied here.
    return list(language_names().items())


class TranslationForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=_language_choices)
    text = forms.CharField(
        label=_("Translation"),
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        help_text=_(
            "Of the current wording. Participants reading the workbench in this "
            "language see it, marked as translated by the facilitator, with the "
            "original a click away."
        ),
    )


class TranslationRemoveForm(forms.Form):
    translation = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
