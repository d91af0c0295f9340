from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Participant, RankingBallot, Round
from workbench.deliberation.services.analysis import analysis_request_on_commit


@transaction.atomic
def ballot_submit(
    *, participant: Participant, round_: Round, ranking: Sequence[int]
) -> RankingBallot:
    """Stores the participant's full order of the shortlist, replacing any earlier."""
    if round_.workshop_id != participant.workshop_id or not round_.admits_group(
        participant.group_id
    ):
        raise ApplicationError(gettext("This round is not open to your group."))
    if round_.kind != Round.Kind.RANK:
        raise ApplicationError(gettext("This round is not a ranking round."))
    if not round_.is_open_at(timezone.now()):
        raise ApplicationError(
            gettext("This round is closed; rankings are no longer accepted.")
        )
    ranking = [int(pk) for pk in ranking]
    shortlist = set(round_.shortlist.values_list("pk", flat=True))
    if len(set(ranking)) != len(ranking):
        raise ApplicationError(
            gettext("Each principle can appear only once in your ranking.")
        )
    if set(ranking) != shortlist:
        raise ApplicationError(
            gettext("Please place every principle on the shortlist in your order.")
        )
    ballot, _ = RankingBallot.objects.update_or_create(
        participant=participant, round=round_, defaults={"ranking": ranking}
    )
    analysis_request_on_commit(workshop_id=participant.workshop_id)
    return ballot
