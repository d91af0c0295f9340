"""Output serializers (what the API returns) and input serializers (what it accepts),
kept apart so each is exactly what the schema says."""

from __future__ import annotations

from typing import Any, TypeVar

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from workbench.accounts.models import User
from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    Participant,
    ParticipantGroup,
    Principle,
    PrincipleTranslation,
    PrincipleVersion,
    RankingBallot,
    Round,
    Vote,
    VoteChoice,
    VoteRecord,
    Workshop,
)
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    HumanJudgment,
    JudgeConfig,
    JudgeControl,
    JudgeRun,
    Verdict,
)

# --- errors ------------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField(help_text="A stable machine-readable code.")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    # The metaclass pops declared fields off the class, so this does not shadow
    # Serializer.fields at runtime; the stubs cannot express that.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per input field, its messages (invalid input only).",
    )


class ErrorSerializer(serializers.Serializer[dict[str, Any]]):
    error = ErrorDetailSerializer()


# --- deliberation: output ------------------------------------------------------------


class WorkshopSerializer(serializers.ModelSerializer[Workshop]):
    class Meta:
        model = Workshop
        fields = [
            "slug",
            "title",
            "question",
            "description",
            "source",
            "strict_moderation",
            "show_moderation_log",
            "show_opinion_map",
            "created_at",
            "updated_at",
        ]


class GroupSerializer(serializers.ModelSerializer[ParticipantGroup]):
    class Meta:
        model = ParticipantGroup
        fields = ["id", "name", "description", "external_id", "invite_token"]


class ParticipantSerializer(serializers.ModelSerializer[Participant]):
    demographics = serializers.SerializerMethodField(
        help_text="Only when the participant consented to share them; else {}."
    )

    class Meta:
        model = Participant
        # The pk is the pseudonymous id; public_id (the participant's cookie
        # identity) is never exposed.
        fields = [
            "id",
            "group",
            "external_id",
            "language",
            "demographics_consent",
            "demographics",
            "created_at",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_demographics(self, obj: Participant) -> dict[str, Any]:
        return dict(obj.demographics) if obj.demographics_consent else {}


class PrincipleTranslationSerializer(serializers.ModelSerializer[PrincipleTranslation]):
    class Meta:
        model = PrincipleTranslation
        fields = ["id", "language", "text", "created_at", "updated_at"]


class PrincipleVersionSerializer(serializers.ModelSerializer[PrincipleVersion]):
    translations = PrincipleTranslationSerializer(
        many=True,
        read_only=True,
        help_text="The facilitator's translations of this wording. Participants "
        "see those of the latest version only; earlier versions' are outdated.",
    )

    class Meta:
        model = PrincipleVersion
        fields = ["id", "number", "text", "reason", "created_at", "translations"]


class PrincipleSerializer(serializers.ModelSerializer[Principle]):
    versions = PrincipleVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Principle
        fields = [
            "id",
            "text",
            "status",
            "is_seed",
            "is_meta",
            "group",
            "round",
            "author",
            "merged_into",
            "external_id",
            "created_at",
            "versions",
        ]


class RoundSerializer(serializers.ModelSerializer[Round]):
    class Meta:
        model = Round
        fields = [
            "id",
            "title",
            "kind",
            "scope",
            "group",
            "status",
            "position",
            "opens_at",
            "closes_at",
            "opened_at",
            "closed_at",
            "created_at",
        ]


# A current vote and a vote-history row: the same fields, other tables.
_AnyVote = TypeVar("_AnyVote", Vote, VoteRecord)


class _VoteFieldsSerializer(serializers.ModelSerializer[_AnyVote]):
    choice_label = serializers.SerializerMethodField()

    def get_choice_label(self, obj: _AnyVote) -> str:
        return VoteChoice(obj.choice).name.lower()


class VoteSerializer(_VoteFieldsSerializer[Vote]):
    class Meta:
        model = Vote
        fields = [
            "id",
            "participant",
            "principle",
            "round",
            "choice",
            "choice_label",
            "cast_at",
        ]


class VoteRecordSerializer(_VoteFieldsSerializer[VoteRecord]):
    class Meta:
        model = VoteRecord
        # The language of the facilitator's translation the page showed ("" for
        # the original wording); the vote counts toward the principle either way.
        fields = [*VoteSerializer.Meta.fields, "shown_language"]


class BallotSerializer(serializers.ModelSerializer[RankingBallot]):
    ranking = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Principle ids, most preferred first.",
    )

    class Meta:
        model = RankingBallot
        fields = ["id", "participant", "round", "ranking", "created_at", "updated_at"]


class ModerationEventSerializer(serializers.ModelSerializer[ModerationEvent]):
    actor: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    # Does not shadow Serializer.data: the metaclass pops declared fields.
    data = serializers.JSONField()  # type: ignore[assignment]

    class Meta:
        model = ModerationEvent
        fields = [
            "id",
            "action",
            "principle",
            "round",
            "actor",
            "reason",
            "data",
            "created_at",
        ]


class ConstitutionSerializer(serializers.ModelSerializer[Constitution]):
    parameters = serializers.JSONField()
    principles = serializers.JSONField()
    figures = serializers.JSONField()

    class Meta:
        model = Constitution
        fields = [
            "id",
            "title",
            "rule",
            "parameters",
            "principles",
            "figures",
            "content_hash",
            "published_at",
        ]


@extend_schema_serializer(many=False)  # one object, though the route is a list's
class AnalysisSerializer(serializers.Serializer[dict[str, Any]]):
    computed_at = serializers.DateTimeField(allow_null=True)
    n_votes = serializers.IntegerField()
    n_participants = serializers.IntegerField()
    result = serializers.JSONField(
        allow_null=True,
        help_text="What `manage.py analyze --json` prints; null before any analysis.",
    )


# --- judging: output -----------------------------------------------------------------


class ComparisonSetSerializer(serializers.ModelSerializer[ComparisonSet]):
    n_items = serializers.IntegerField(read_only=True)

    class Meta:
        model = ComparisonSet
        fields = [
            "id",
            "name",
            "source",
            "format",
            "round",
            "generation_status",
            "n_items",
            "created_at",
        ]


class ComparisonItemSerializer(serializers.ModelSerializer[ComparisonItem]):
    principle = serializers.IntegerField(source="principle_version.principle_id")
    principle_text = serializers.CharField(source="principle_version.text")
    prompt = serializers.CharField(source="prompt.text")
    response_a = serializers.CharField(source="response_a.text")
    response_b = serializers.CharField(source="response_b.text")

    class Meta:
        model = ComparisonItem
        fields = [
            "id",
            "comparison_set",
            "external_id",
            "principle_version",
            "principle",
            "principle_text",
            "prompt",
            "response_a",
            "response_b",
        ]


class HumanJudgmentSerializer(serializers.ModelSerializer[HumanJudgment]):
    class Meta:
        model = HumanJudgment
        fields = [
            "id",
            "item",
            "participant",
            "label",
            "reason",
            "shown_order",
            "created_at",
        ]


class JudgeConfigSerializer(serializers.ModelSerializer[JudgeConfig]):
    class Meta:
        model = JudgeConfig
        fields = [
            "id",
            "provider",
            "model",
            "prompt_version",
            "temperature",
            "samples",
            "both_orders",
            "control",
        ]


class RunProgressSerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.CharField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    total = serializers.IntegerField()
    cache_hits = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=12, decimal_places=6)
    percent = serializers.FloatField()
    finished = serializers.BooleanField()
    error = serializers.CharField()
    retried = serializers.IntegerField(
        help_text="Provider calls that failed and were retried (a row per call)."
    )
    retried_by_kind = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Those calls by how they failed: rate_limited, server_error, "
        "timeout, connection, malformed_body.",
    )


class JudgeRunSerializer(serializers.ModelSerializer[JudgeRun]):
    config = JudgeConfigSerializer(read_only=True)

    class Meta:
        model = JudgeRun
        fields = [
            "id",
            "comparison_set",
            "config",
            "status",
            "verdicts_total",
            "verdicts_done",
            "verdicts_failed",
            "cache_hits",
            "cost_estimate",
            "started_at",
            "finished_at",
            "error",
            "created_at",
        ]


class VerdictSerializer(serializers.ModelSerializer[Verdict]):
    class Meta:
        model = Verdict
        fields = [
            "id",
            "run",
            "item",
            "order",
            "sample",
            "choice",
            "probability_a",
            "rationale",
            "raw_output",
            "input_tokens",
            "output_tokens",
            "latency_ms",
            "cost_estimate",
            "error",
            "created_at",
        ]


# --- inputs --------------------------------------------------------------------------
# They only validate: no instance, nothing calls save() (hence Serializer[None]).


class WorkshopInputSerializer(serializers.Serializer[None]):
    title = serializers.CharField(max_length=200)
    question = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True, default="")
    slug = serializers.SlugField(
        max_length=80,
        required=False,
        help_text=gettext_lazy("Empty: derived from the title."),
    )
    strict_moderation = serializers.BooleanField(required=False, default=True)
    show_moderation_log = serializers.BooleanField(required=False, default=False)
    show_opinion_map = serializers.BooleanField(required=False, default=False)


class GroupInputSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    external_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )


class RoundInputSerializer(serializers.Serializer[None]):
    kind = serializers.ChoiceField(choices=Round.Kind.choices)
    title = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    scope = serializers.ChoiceField(
        choices=Round.Scope.choices, required=False, default=Round.Scope.ALL
    )
    group = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="A group's id."
    )
    opens_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    closes_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class PrincipleInputSerializer(serializers.Serializer[None]):
    text = serializers.CharField(help_text=gettext_lazy("A seed principle's wording."))
    group = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("The group it belongs to; empty: workshop-wide."),
    )


class JudgeRunInputSerializer(serializers.Serializer[None]):
    comparison_set = serializers.IntegerField(help_text="A comparison set's id.")
    provider = serializers.ChoiceField(
        choices=JudgeConfig.Provider.choices,
        help_text=gettext_lazy(
            "offline always works; the others only when this server holds their key."
        ),
    )
    model = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Empty: the provider's default model."),
    )
    samples = serializers.IntegerField(min_value=1, max_value=10, default=1)
    control = serializers.ChoiceField(
        choices=JudgeControl.choices, required=False, default=JudgeControl.NONE
    )
