from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from tests.factories import ParticipantFactory
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Constitution, VoteChoice
from workbench.deliberation.services.constitutions import (
    constitution_preview,
    constitution_publish,
)
from workbench.deliberation.services.votes import vote_cast


def _vote(round_, group, principle, choices):
    for choice in choices:
        vote_cast(
            participant=ParticipantFactory(group=group),
            round_=round_,
            principle=principle,
            choice=choice,
        )


@pytest.fixture
def voted(setup, vote_round):
    agree, disagree, skip = VoteChoice.AGREE, VoteChoice.DISAGREE, VoteChoice.PASS
    honest, privacy, plain = setup.seeds
    # Honest: both groups agree strongly. Privacy: nurses yes, teachers split.
    _vote(vote_round, setup.group_a, honest, [agree, agree, agree, agree, skip])
    _vote(vote_round, setup.group_b, honest, [agree, agree, agree, agree])
    _vote(vote_round, setup.group_a, privacy, [agree, agree, agree])
    _vote(vote_round, setup.group_b, privacy, [agree, disagree, disagree])
    _vote(vote_round, setup.group_b, plain, [agree, agree])
    return setup


def test_ccai_rule_needs_support_in_every_group(voted):
    preview = constitution_preview(workshop=voted.workshop, rule="ccai", threshold=0.7)
    assert [p["text"] for p in preview["adopted"]] == [voted.seeds[0].text]
    overall = constitution_preview(
        workshop=voted.workshop, rule="overall", threshold=0.6
    )
    assert {p["id"] for p in overall["adopted"]} == {s.pk for s in voted.seeds}


def test_published_snapshot_does_not_change_with_later_votes(voted, owner, vote_round):
    constitution = constitution_publish(
        workshop=voted.workshop, actor=owner, title="v1", rule="ccai", threshold=0.7
    )
    before = (constitution.principles, constitution.figures, constitution.content_hash)
    _vote(vote_round, voted.group_b, voted.seeds[0], [VoteChoice.DISAGREE] * 10)
    constitution.refresh_from_db()
    assert (
        constitution.principles,
        constitution.figures,
        constitution.content_hash,
    ) == before
    with pytest.raises(DatabaseError, match="never changes"), transaction.atomic():
        Constitution.objects.filter(pk=constitution.pk).update(title="rewritten")


def test_publishing_nothing_is_refused(setup, owner):
    with pytest.raises(ApplicationError, match="No principle passes"):
        constitution_publish(
            workshop=setup.workshop, actor=owner, title="", rule="ccai", threshold=0.7
        )
    assert not Constitution.objects.exists()
