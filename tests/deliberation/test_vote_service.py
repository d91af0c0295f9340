from __future__ import annotations

import uuid

import pytest

from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Round, Vote, VoteChoice, VoteRecord
from workbench.deliberation.services.rounds import round_close, round_create, round_open
from workbench.deliberation.services.votes import vote_cast


def test_revote_keeps_one_current_vote_and_the_full_history(
    setup, vote_round, participant_a
):
    principle = setup.seeds[0]
    for choice in (VoteChoice.AGREE, VoteChoice.DISAGREE, VoteChoice.PASS):
        vote_cast(
            participant=participant_a,
            round_=vote_round,
            principle=principle,
            choice=choice,
        )
    current = Vote.objects.get(participant=participant_a, principle=principle)
    assert current.choice == VoteChoice.PASS
    history = list(
        VoteRecord.objects.filter(participant=participant_a).values_list(
            "choice", flat=True
        )
    )
    assert history == [1, -1, 0]


def test_resubmitted_form_is_stored_once(setup, vote_round, participant_a):
    token = uuid.uuid4()
    for _ in range(3):
        vote_cast(
            participant=participant_a,
            round_=vote_round,
            principle=setup.seeds[0],
            choice=VoteChoice.AGREE,
            client_token=token,
        )
    assert VoteRecord.objects.filter(participant=participant_a).count() == 1


def test_closed_round_rejects_votes(setup, owner, vote_round, participant_a):
    round_close(round_=vote_round, actor=owner)
    vote_round.refresh_from_db()
    with pytest.raises(ApplicationError, match="closed"):
        vote_cast(
            participant=participant_a,
            round_=vote_round,
            principle=setup.seeds[0],
            choice=VoteChoice.AGREE,
        )
    assert not Vote.objects.exists()


def test_group_round_refuses_other_groups(setup, owner, participant_b):
    round_ = round_open(
        round_=round_create(
            workshop=setup.workshop,
            kind=Round.Kind.VOTE,
            scope="group",
            group=setup.group_a,
        ),
        actor=owner,
    )
    with pytest.raises(ApplicationError, match="not open to your group"):
        vote_cast(
            participant=participant_b, round_=round_, principle=setup.seeds[0], choice=1
        )
