"""Pre-registering the decision rule: the facilitator fixes the selection rule and
its parameters, ideally before anyone votes, so that the published constitution
can be held to it (issue 5, Legitimacy: "thresholds fixed before voting").

Commitments are append-only (a database trigger refuses UPDATE): fixing the rule
again adds a commitment that supersedes the previous one, and the history stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workbench.accounts.models import User
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    ModerationEvent,
    RuleCommitment,
    VoteRecord,
    Workshop,
)
from workbench.deliberation.services.constitutions import (
    _content_hash,
    rule_parameters_check,
)


@dataclass(frozen=True)
class CommitmentStatus:
    """A workshop's commitments against the moment voting started.

    `before_voting` is the latest commitment made before the first vote (the
    latest of all while nobody has voted); `latest` is the one that counts now.
    """

    commitments: list[RuleCommitment]
    voting_started_at: datetime | None

    @property
    def latest(self) -> RuleCommitment | None:
        return self.commitments[0] if self.commitments else None

    @property
    def before_voting(self) -> RuleCommitment | None:
        return next((c for c in self.commitments if self.fixed_in_time(c)), None)

    def fixed_in_time(self, commitment: RuleCommitment) -> bool:
        """Whether no vote had been cast when `commitment` was made."""
        started = self.voting_started_at
        return started is None or commitment.committed_at < started

    @property
    def reported(self) -> RuleCommitment | None:
        """The commitment a card reports: fixed before voting if there is one,
        else the latest (made after voting started)."""
        return self.before_voting or self.latest


def voting_started_at(*, workshop: Workshop) -> datetime | None:
    """When the workshop's first vote was cast (its first VoteRecord)."""
    return (
        VoteRecord.objects.filter(participant__workshop=workshop)
        .order_by("cast_at")
        .values_list("cast_at", flat=True)
        .first()
    )


def rule_commitment_status(*, workshop: Workshop) -> CommitmentStatus:
    return CommitmentStatus(
        commitments=list(
            RuleCommitment.objects.filter(workshop=workshop).select_related(
                "committed_by"
            )
        ),
        voting_started_at=voting_started_at(workshop=workshop),
    )


def rule_commitment_latest(*, workshop: Workshop) -> RuleCommitment | None:
    return RuleCommitment.objects.filter(workshop=workshop).first()


@transaction.atomic
def rule_commit(
    *, workshop: Workshop, rule: str, parameters: dict[str, Any], actor: User
) -> RuleCommitment:
    """Commits the workshop to `rule` with `parameters` (threshold, min_votes),
    validated as publishing validates them. The new commitment supersedes the
    previous one; a commitment is never changed."""
    unknown = set(parameters) - {"threshold", "min_votes"}
    if unknown:
        raise ApplicationError(
            _("Unknown rule parameters: %(names)s.")
            % {"names": ", ".join(sorted(unknown))}
        )
    if "threshold" not in parameters:
        raise ApplicationError(_("The threshold is required."))
    try:
        threshold = float(parameters["threshold"])
        min_votes = int(parameters.get("min_votes", 1))
    except (TypeError, ValueError) as exc:
        raise ApplicationError(_("The rule parameters must be numbers.")) from exc
    clean = rule_parameters_check(rule=rule, threshold=threshold, min_votes=min_votes)
    # Lock the workshop: a publish running meanwhile compares against the
    # commitment that was current when it started, never a half-written one.
    Workshop.objects.select_for_update(no_key=True).get(pk=workshop.pk)
    now = timezone.now()
    commitment = RuleCommitment(
        workshop=workshop,
        rule=rule,
        parameters=clean,
        committed_by=actor,
        committed_at=now,
        content_hash=_content_hash(
            {
                "workshop": workshop.slug,
                "rule": rule,
                "parameters": clean,
                "committed_by": actor.pk,
                "committed_at": now.isoformat(),
            }
        ),
    )
    commitment.full_clean()
    commitment.save()
    # The process record: the log shows when the rule was fixed, beside the votes.
    ModerationEvent.objects.create(
        workshop=workshop,
        actor=actor,
        action=ModerationEvent.Action.RULE_COMMIT,
        data={
            "commitment": commitment.pk,
            "rule": rule,
            **clean,
            "content_hash": commitment.content_hash,
        },
    )
    return commitment
