"""Participant pages: no account, a signed cookie per workshop, phone first."""

from __future__ import annotations

from workbench.deliberation.views.participant.opinion_map import participant_map
from workbench.deliberation.views.participant.pages import (
    join,
    moderation_log,
    participant_home,
    propose,
)
from workbench.deliberation.views.participant.ranking import rank
from workbench.deliberation.views.participant.voting import vote, vote_list

__all__ = [
    "join",
    "moderation_log",
    "participant_home",
    "participant_map",
    "propose",
    "rank",
    "vote",
    "vote_list",
]
