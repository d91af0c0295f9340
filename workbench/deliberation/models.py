"""The deliberation domain: workshops, groups, participants, rounds, principles, votes.

Invariants live in database constraints so that every writer (web processes, workers,
management commands, the admin) is held to them, whatever code path it takes.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from workbench.core.models import BaseModel


def new_invite_token() -> str:
    # 32 random bytes: 256 bits, far beyond guessing.
    return secrets.token_urlsafe(32)


class Workshop(BaseModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="workshops"
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    question = models.TextField(help_text="The question participants answer.")
    description = models.TextField(blank=True)
    strict_moderation = models.BooleanField(
        default=True,
        help_text="New principles wait for approval before anyone can vote on them.",
    )
    show_moderation_log = models.BooleanField(
        default=False, help_text="Participants can read the moderation log."
    )
    show_opinion_map = models.BooleanField(
        default=False,
        help_text="Participants see the opinion map and where they sit.",
    )
    source = models.CharField(
        max_length=200, blank=True, help_text="Where imported data came from."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("deliberation:workshop-detail", kwargs={"slug": self.slug})


class ParticipantGroup(BaseModel):
    workshop = models.ForeignKey(
        Workshop, on_delete=models.CASCADE, related_name="groups"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    invite_token = models.CharField(
        max_length=64, unique=True, default=new_invite_token
    )
    external_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "name"], name="unique_group_name_per_workshop"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Participant(BaseModel):
    """An anonymous participant, known to the browser only through a signed cookie."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workshop = models.ForeignKey(
        Workshop, on_delete=models.CASCADE, related_name="participants"
    )
    group = models.ForeignKey(
        ParticipantGroup, on_delete=models.PROTECT, related_name="participants"
    )
    external_id = models.CharField(
        max_length=64, blank=True, help_text="The participant's id in imported data."
    )
    demographics = models.JSONField(default=dict, blank=True)
    demographics_consent = models.BooleanField(default=False)
    language = models.CharField(max_length=16, blank=True)
    source_data = models.JSONField(
        default=dict, blank=True, help_text="Fields kept from imported data."
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "external_id"],
                condition=~Q(external_id=""),
                name="unique_participant_external_id",
            ),
            models.CheckConstraint(
                condition=Q(demographics_consent=True) | Q(demographics={}),
                name="demographics_need_consent",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id or str(self.public_id)[:8]


class Round(BaseModel):
    class Kind(models.TextChoices):
        PROPOSE = "propose", _("Propose")
        VOTE = "vote", _("Vote")
        RANK = "rank", _("Rank")
        COMPARE = "compare", _("Compare")
        REVIEW = "review", _("Review")

    class Scope(models.TextChoices):
        GROUP = "group", _("One group")
        ALL = "all", _("All groups")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    workshop = models.ForeignKey(
        Workshop, on_delete=models.CASCADE, related_name="rounds"
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.ALL)
    group = models.ForeignKey(
        ParticipantGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rounds",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    position = models.PositiveIntegerField(default=0)
    shortlist: models.ManyToManyField[Principle, Round] = models.ManyToManyField(
        "Principle",
        blank=True,
        related_name="shortlisted_in",
        help_text="Rank rounds: the principles to order. Vote rounds: an optional "
        "agenda (empty means every approved principle in scope).",
    )

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="group") & Q(group__isnull=False))
                | (Q(scope="all") & Q(group__isnull=True)),
                name="round_group_matches_scope",
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="round_closes_after_it_opens",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_open_at(self, now: datetime) -> bool:
        """Accepts input now: opened by the facilitator and inside its time window."""
        if self.status != self.Status.OPEN:
            return False
        if self.opens_at is not None and now < self.opens_at:
            return False
        return self.closes_at is None or now < self.closes_at

    def admits_group(self, group_id: int) -> bool:
        return self.scope == self.Scope.ALL or self.group_id == group_id


class Principle(BaseModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    workshop = models.ForeignKey(
        Workshop, on_delete=models.CASCADE, related_name="principles"
    )
    round = models.ForeignKey(
        Round,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="principles",
    )
    group = models.ForeignKey(
        ParticipantGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="principles",
        help_text="The group it came from; empty for workshop-wide seeds.",
    )
    author = models.ForeignKey(
        Participant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="principles",
    )
    text = models.TextField(help_text="The current wording (its latest version).")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    is_seed = models.BooleanField(default=False)
    is_meta = models.BooleanField(default=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
    )
    external_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "external_id"],
                condition=~Q(external_id=""),
                name="unique_principle_external_id",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")),
                name="principle_not_merged_into_itself",
            ),
        ]
        indexes = [models.Index(fields=["workshop", "status"])]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def is_votable(self) -> bool:
        return self.status == self.Status.APPROVED and self.merged_into_id is None


class PrincipleVersion(models.Model):
    """One wording of a principle. Version 1 is the original; edits add versions."""

    principle = models.ForeignKey(
        Principle, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    text = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["principle", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["principle", "number"], name="unique_version_number"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number}: {self.text[:60]}"


class PrincipleTranslation(models.Model):
    """A facilitator's translation of one wording of a principle into one of the
    interface languages (settings.LANGUAGES).

    It belongs to the version it translates: once the principle is reworded the
    translation is outdated and participants see the original again, never a
    translation of words that are no longer the principle's. Votes stay on the
    principle whichever wording a participant read."""

    version = models.ForeignKey(
        PrincipleVersion, on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(max_length=16)
    text = models.TextField()
    translated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["version", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "language"],
                name="one_translation_per_version_language",
            ),
            models.CheckConstraint(
                condition=~Q(language="") & ~Q(text=""),
                name="translation_has_language_and_text",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.language} of v{self.version_id}: {self.text[:60]}"


class VoteChoice(models.IntegerChoices):
    # Polis's export convention: agree is +1.
    AGREE = 1, _("Agree")
    DISAGREE = -1, _("Disagree")
    PASS = 0, _("Pass")


class Vote(models.Model):
    """A participant's current vote on a principle: exactly one row per pair."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="votes"
    )
    principle = models.ForeignKey(
        Principle, on_delete=models.CASCADE, related_name="votes"
    )
    round = models.ForeignKey(
        Round, on_delete=models.SET_NULL, null=True, blank=True, related_name="votes"
    )
    choice = models.SmallIntegerField(choices=VoteChoice.choices)
    cast_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "principle"], name="one_current_vote_per_pair"
            ),
            models.CheckConstraint(
                condition=Q(choice__in=[-1, 0, 1]), name="vote_choice_valid"
            ),
        ]
        indexes = [models.Index(fields=["principle", "choice"])]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.get_choice_display()} {self.principle_id}"


class VoteRecord(models.Model):
    """The append-only history of every vote cast, superseded ones included."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="vote_records"
    )
    principle = models.ForeignKey(
        Principle, on_delete=models.CASCADE, related_name="vote_records"
    )
    round = models.ForeignKey(
        Round, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    choice = models.SmallIntegerField(choices=VoteChoice.choices)
    cast_at = models.DateTimeField(db_index=True)
    client_token = models.UUIDField(
        null=True,
        blank=True,
        help_text="Sent with the form: a resubmission is a no-op.",
    )
    shown_language = models.CharField(
        max_length=16,
        blank=True,
        default="",
        db_default="",
        help_text="The language of the facilitator's translation the voting page "
        "showed; empty when it showed the original wording.",
    )

    class Meta:
        ordering = ["cast_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "client_token"], name="one_record_per_submission"
            ),
            models.CheckConstraint(
                condition=Q(choice__in=[-1, 0, 1]), name="vote_record_choice_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.get_choice_display()} {self.principle_id}"


class RankingBallot(BaseModel):
    """A participant's order of a rank round's shortlist (best first)."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="ballots"
    )
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="ballots")
    ranking = models.JSONField(help_text="Principle ids, most preferred first.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "round"], name="one_ballot_per_round"
            ),
        ]

    def __str__(self) -> str:
        return f"ballot {self.participant_id} in {self.round_id}"


class ModerationEvent(models.Model):
    """Append-only log of every moderation and process action: who, what, why, when."""

    class Action(models.TextChoices):
        SEED = "seed", _("Seeded")
        PROPOSE = "propose", _("Proposed")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        MERGE = "merge", _("Merged")
        EDIT = "edit", _("Edited wording")
        ROUND_OPEN = "round_open", _("Opened round")
        ROUND_CLOSE = "round_close", _("Closed round")
        PUBLISH = "publish", _("Published constitution")
        IMPORT = "import", _("Imported data")
        RULE_COMMIT = "rule_commit", _("Fixed the decision rule")
        TRANSLATE = "translate", _("Translated")
        UNTRANSLATE = "untranslate", _("Removed a translation")

    workshop = models.ForeignKey(
        Workshop, on_delete=models.CASCADE, related_name="moderation_events"
    )
    principle = models.ForeignKey(
        Principle,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="moderation_events",
    )
    round = models.ForeignKey(
        Round, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.principle_id or ''}"


class Constitution(models.Model):
    """An immutable published snapshot: what was adopted, by which rule, on what."""

    workshop = models.ForeignKey(
        Workshop, on_delete=models.PROTECT, related_name="constitutions"
    )
    title = models.CharField(max_length=200)
    rule = models.CharField(max_length=64)
    parameters = models.JSONField(default=dict)
    principles = models.JSONField(help_text="The adopted principles, in order.")
    figures = models.JSONField(help_text="Every principle's figures at publication.")
    content_hash = models.CharField(max_length=64)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return self.title


class WorkshopAnalysis(models.Model):
    """One stored run of the opinion analysis and the rule comparison (issue 3).

    `result` is the JSON the results pages and `manage.py analyze --json` read
    (services/analysis.py documents its keys). The watermarks are the highest
    VoteRecord and ModerationEvent ids and the latest ranking-ballot change of the
    workshop, read *before* the votes, so a run is stale when any has moved since.
    A failed run keeps its `error`."""

    workshop = models.ForeignKey(
        Workshop, on_delete=models.CASCADE, related_name="analyses"
    )
    computed_at = models.DateTimeField()
    n_votes = models.PositiveIntegerField(default=0)
    n_participants = models.PositiveIntegerField(default=0)
    vote_watermark = models.BigIntegerField(
        null=True, blank=True, help_text="Highest vote record id the run saw."
    )
    moderation_watermark = models.BigIntegerField(
        null=True, blank=True, help_text="Highest moderation event id the run saw."
    )
    ballot_watermark = models.DateTimeField(
        null=True, blank=True, help_text="Latest ranking ballot change the run saw."
    )
    duration_ms = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    priorities = models.JSONField(
        default=dict,
        blank=True,
        help_text="Principle id -> routing priority, read apart from the result "
        "by the voting page.",
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name_plural = "workshop analyses"
        indexes = [models.Index(fields=["workshop", "-computed_at", "-id"])]

    def __str__(self) -> str:
        return f"analysis of {self.workshop_id} at {self.computed_at:%Y-%m-%d %H:%M}"

    @property
    def ok(self) -> bool:
        return not self.error


class RuleCommitment(models.Model):
    """A pre-registered decision rule: the rule and parameters a facilitator fixes,
    ideally before the first vote, so the published constitution can be checked
    against it. Append-only: a new commitment supersedes the previous one (the
    latest counts) and the history stays."""

    class Rule(models.TextChoices):
        # The rules of services/constitutions.py RULES (a test keeps them in step).
        CCAI = "ccai", _("Agree share ≥ threshold in every group (CCAI)")
        OVERALL = "overall", _("Agree share ≥ threshold overall")

    workshop = models.ForeignKey(
        Workshop, on_delete=models.PROTECT, related_name="rule_commitments"
    )
    rule = models.CharField(max_length=64, choices=Rule.choices)
    parameters = models.JSONField(help_text="threshold, min_votes")
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    committed_at = models.DateTimeField(db_index=True)
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-committed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule} {self.parameters} at {self.committed_at:%Y-%m-%d %H:%M}"

    def matches(self, *, rule: str, parameters: dict[str, object]) -> bool:
        """Whether a rule and its parameters are the committed ones (other keys of
        `parameters` are not compared)."""
        return self.rule == rule and all(
            parameters.get(key) == value for key, value in self.parameters.items()
        )

    def as_record(self) -> dict[str, object]:
        """What a constitution stores of the commitment it was published under."""
        return {
            "id": self.pk,
            "rule": self.rule,
            "parameters": self.parameters,
            "committed_at": self.committed_at.isoformat(),
            "content_hash": self.content_hash,
        }
