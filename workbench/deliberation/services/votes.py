from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    Participant,
    Principle,
    Round,
    Vote,
    VoteChoice,
    VoteRecord,
)
from workbench.deliberation.selectors.principles import principle_agenda
from workbench.deliberation.services.rounds import round_hold_for_input


def vote_check_allowed(
    *, participant: Participant, round_: Round, principle: Principle
) -> None:
    """Raises ApplicationError unless the participant may vote on the principle now."""
    if round_.workshop_id != participant.workshop_id or not round_.admits_group(
        participant.group_id
    ):
        raise ApplicationError("This round is not open to your group.")
    if round_.kind != Round.Kind.VOTE:
        raise ApplicationError("This round is not a voting round.")
    if not round_.is_open_at(timezone.now()):
        raise ApplicationError("This round is closed; votes are no longer accepted.")
    if not principle_agenda(round_=round_).filter(pk=principle.pk).exists():
        raise ApplicationError("This principle is not on this round's agenda.")


@transaction.atomic
def vote_cast(
    *,
    participant: Participant,
    round_: Round,
    principle: Principle,
    choice: int,
    client_token: uuid.UUID | None = None,
) -> Vote:
    """Records a vote exactly once.

    The history row and the current-vote upsert are one transaction. The participant's
    row lock serialises one participant's votes, so the current vote is always the last
    one in the history; a resubmitted form (same client_token) changes nothing. The
    round is re-read under a share lock (round_hold_for_input), so a vote racing
    round_close is either stored before the close commits or refused.
    """
    if choice not in VoteChoice.values:
        raise ApplicationError("A vote is agree, disagree or pass.")
    round_ = round_hold_for_input(round_=round_)
    vote_check_allowed(participant=participant, round_=round_, principle=principle)
    Participant.objects.select_for_update(no_key=True).only("pk").get(pk=participant.pk)
    if client_token is not None:
        duplicate = VoteRecord.objects.filter(
            participant=participant, client_token=client_token
        ).exists()
        if duplicate:
            return Vote.objects.get(participant=participant, principle=principle)
    now = timezone.now()
    VoteRecord.objects.create(
        participant=participant,
        principle=principle,
        round=round_,
        choice=choice,
        cast_at=now,
        client_token=client_token,
    )
    (vote,) = Vote.objects.bulk_create(
        [
            Vote(
                participant=participant,
                principle=principle,
                round=round_,
                choice=choice,
                cast_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["participant", "principle"],
        update_fields=["choice", "cast_at", "round"],
    )
    return vote
