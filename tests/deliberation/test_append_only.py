"""Append-only records refuse updates at the database level."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from workbench.deliberation.models import ModerationEvent, VoteChoice, VoteRecord
from workbench.deliberation.services.votes import vote_cast


def test_moderation_log_rows_cannot_be_rewritten(setup):
    event = ModerationEvent.objects.filter(workshop=setup.workshop).first()
    assert event is not None
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ModerationEvent.objects.filter(pk=event.pk).update(reason="history rewritten")
    event.refresh_from_db()
    assert event.reason == ""


def test_vote_history_rows_cannot_be_rewritten(setup, vote_round, participant_a):
    vote_cast(
        participant=participant_a,
        round_=vote_round,
        principle=setup.seeds[0],
        choice=VoteChoice.AGREE,
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        VoteRecord.objects.update(choice=VoteChoice.DISAGREE)
    assert VoteRecord.objects.get().choice == VoteChoice.AGREE
