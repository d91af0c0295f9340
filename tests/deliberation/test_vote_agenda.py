"""vote_cast's hand-written agenda check (the hot path's SQL) gives the same answer
as principle_agenda, the selector every page uses, in every kind of round."""

from __future__ import annotations

import pytest

from tests.factories import GroupFactory, ParticipantFactory, WorkshopFactory
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Principle, Round, Vote
from workbench.deliberation.selectors.principles import principle_agenda
from workbench.deliberation.services.principles import (
    principle_approve,
    principle_merge,
    principle_reject,
    principle_seed,
)
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.votes import vote_cast


@pytest.fixture
def principles(setup, owner):
    """Every status and origin a principle can have, in this workshop and another."""
    seed_a = principle_seed(
        workshop=setup.workshop,
        text="Nurses' own seed.",
        actor=owner,
        group=setup.group_a,
    )
    seed_b = principle_seed(
        workshop=setup.workshop,
        text="Teachers' own seed.",
        actor=owner,
        group=setup.group_b,
    )
    pending = Principle.objects.create(
        workshop=setup.workshop, text="Still pending.", group=setup.group_a
    )
    rejected = principle_seed(
        workshop=setup.workshop, text="Rejected later.", actor=owner
    )
    principle_reject(principle=rejected, actor=owner, reason="Off topic")
    merged = principle_seed(workshop=setup.workshop, text="A duplicate.", actor=owner)
    principle_merge(source=merged, target=setup.seeds[0], actor=owner)
    approved_later = Principle.objects.create(
        workshop=setup.workshop, text="Approved later.", group=setup.group_b
    )
    principle_approve(principle=approved_later, actor=owner)
    elsewhere = principle_seed(
        workshop=WorkshopFactory(owner=owner), text="Another workshop's.", actor=owner
    )
    return [
        *setup.seeds,
        seed_a,
        seed_b,
        pending,
        rejected,
        merged,
        approved_later,
        elsewhere,
    ]


def _rounds(setup, owner, principles):
    everyone = round_create(workshop=setup.workshop, kind=Round.Kind.VOTE)
    nurses = round_create(
        workshop=setup.workshop,
        kind=Round.Kind.VOTE,
        scope="group",
        group=setup.group_a,
    )
    shortlisted = round_create(workshop=setup.workshop, kind=Round.Kind.VOTE)
    round_set_shortlist(round_=shortlisted, principles=[principles[1], principles[4]])
    return [round_open(round_=r, actor=owner) for r in (everyone, nurses, shortlisted)]


def test_hot_path_agenda_matches_the_selector(setup, owner, principles):
    participant = ParticipantFactory(group=setup.group_a)
    for round_ in _rounds(setup, owner, principles):
        on_agenda = set(principle_agenda(round_=round_).values_list("pk", flat=True))
        for principle in principles:
            try:
                vote_cast(
                    participant=participant,
                    round_=round_,
                    principle=principle,
                    choice=1,
                )
                accepted = True
            except ApplicationError as error:
                assert error.message == "This principle is not on this round's agenda."
                accepted = False
            assert accepted == (principle.pk in on_agenda), (
                round_.title,
                principle.text,
            )
        assert (
            set(
                Vote.objects.filter(participant=participant, round=round_).values_list(
                    "principle_id", flat=True
                )
            )
            == on_agenda
        )


def test_a_round_of_another_workshop_is_not_available(setup, owner):
    other_group = GroupFactory(workshop=WorkshopFactory(owner=owner))
    foreign = round_open(
        round_=round_create(workshop=other_group.workshop, kind=Round.Kind.VOTE),
        actor=owner,
    )
    participant = ParticipantFactory(group=setup.group_a)
    with pytest.raises(ApplicationError, match="not open to your group"):
        vote_cast(
            participant=participant, round_=foreign, principle=setup.seeds[0], choice=1
        )
    assert not Vote.objects.exists()
