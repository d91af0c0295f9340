"""Forms for the facilitator's pages. They only parse and check input; every write
goes through a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from workbench.deliberation.models import ParticipantGroup, Principle, Round
from workbench.deliberation.services.constitutions import RULES


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class WorkshopForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    question = forms.CharField(
        label=_("Question"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The question participants answer."),
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    strict_moderation = forms.BooleanField(
        label=_("Strict moderation"),
        required=False,
        initial=True,
        help_text=_("New principles wait for approval before anyone can vote on them."),
    )
    show_moderation_log = forms.BooleanField(
        label=_("Show the moderation log to participants"), required=False
    )
    show_opinion_map = forms.BooleanField(
        label=_("Show participants the opinion map"),
        required=False,
        help_text=_(
            "Participants see the map of opinion groups and where they sit in it. "
            "Nobody is named on it."
        ),
    )


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class SeedForm(forms.Form):
    text = forms.CharField(
        label=_("Principle"), widget=forms.Textarea(attrs={"rows": 3})
    )
    group = forms.ModelChoiceField(
        label=_("For"),
        queryset=ParticipantGroup.objects.none(),
        required=False,
        empty_label=_("All groups (workshop-wide)"),
    )

    def __init__(
        self, *args: Any, groups: QuerySet[ParticipantGroup], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups  # type: ignore[attr-defined]


class RoundForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Round.Kind.choices)
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to name the round after its kind and scope."),
    )
    scope = forms.ChoiceField(
        label=_("Who takes part"), choices=Round.Scope.choices, initial=Round.Scope.ALL
    )
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=ParticipantGroup.objects.none(),
        required=False,
        help_text=_("Only for a round scoped to one group."),
    )
    opens_at = forms.DateTimeField(
        label=_("Opens at (optional)"), required=False, widget=DateTimeLocalInput()
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at (optional)"), required=False, widget=DateTimeLocalInput()
    )

    def __init__(
        self, *args: Any, groups: QuerySet[ParticipantGroup], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("scope") == Round.Scope.GROUP and not data.get("group"):
            self.add_error("group", _("Choose the group this round is for."))
        opens_at, closes_at = data.get("opens_at"), data.get("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", _("A round must close after it opens."))
        return data


class ShortlistForm(forms.Form):
    principles = forms.ModelMultipleChoiceField(
        label=_("Principles"),
        queryset=Principle.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args: Any, candidates: QuerySet[Principle], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["principles"].queryset = candidates  # type: ignore[attr-defined]


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Logged with the rejection."),
    )


class ApproveForm(forms.Form):
    reason = forms.CharField(label=_("Note (optional)"), required=False)


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        label=_("Merge into"), queryset=Principle.objects.none()
    )
    reason = forms.CharField(label=_("Reason (optional)"), required=False)

    def __init__(self, *args: Any, targets: QuerySet[Principle], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets  # type: ignore[attr-defined]


class EditForm(forms.Form):
    text = forms.CharField(
        label=_("New wording"), widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"})
    )
    reason = forms.CharField(label=_("Reason (optional)"), required=False)


class ConstitutionForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to use the workshop's title."),
    )
    rule = forms.ChoiceField(
        label=_("Selection rule"),
        choices=[(rule.name, rule.label) for rule in RULES.values()],
        initial="ccai",
    )
    threshold = forms.FloatField(
        label=_("Threshold (agree share, 0 to 1)"),
        min_value=0.0,
        max_value=1.0,
        initial=0.7,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )
    min_votes = forms.IntegerField(
        label=_("Minimum votes per group"),
        min_value=1,
        initial=1,
        help_text=_("A group with fewer votes on a principle cannot vouch for it."),
    )
