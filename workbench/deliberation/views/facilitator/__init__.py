"""The facilitator's pages, behind login; each works only on the user's workshops."""

from __future__ import annotations

from workbench.deliberation.views.facilitator.constitutions import (
    constitution_detail,
    constitution_publish,
)
from workbench.deliberation.views.facilitator.encoding_gap import (
    encoding_gap,
    encoding_gap_reword,
)
from workbench.deliberation.views.facilitator.groups import (
    group_create,
    group_invite,
    group_regenerate_token,
    group_room,
)
from workbench.deliberation.views.facilitator.judging import (
    judge_run,
    judge_run_cancel_view,
    judge_run_resume_view,
    judging,
    judging_generate,
    judging_set,
    judging_set_resume,
    judging_set_round,
)
from workbench.deliberation.views.facilitator.live import (
    workshop_live,
    workshop_present,
)
from workbench.deliberation.views.facilitator.moderation import (
    moderation_log,
    moderation_queue,
    principle_approve,
    principle_detail,
    principle_edit,
    principle_list,
    principle_merge,
    principle_reject,
    principle_seed,
)
from workbench.deliberation.views.facilitator.results import results, results_analysis
from workbench.deliberation.views.facilitator.rounds import (
    round_close,
    round_create,
    round_detail,
    round_open,
    round_shortlist,
)
from workbench.deliberation.views.facilitator.workshops import (
    workshop_create,
    workshop_detail,
    workshop_edit,
    workshop_list,
)

__all__ = [
    "constitution_detail",
    "constitution_publish",
    "encoding_gap",
    "encoding_gap_reword",
    "group_create",
    "group_invite",
    "group_regenerate_token",
    "group_room",
    "judge_run",
    "judge_run_cancel_view",
    "judge_run_resume_view",
    "judging",
    "judging_generate",
    "judging_set",
    "judging_set_resume",
    "judging_set_round",
    "moderation_log",
    "moderation_queue",
    "principle_approve",
    "principle_detail",
    "principle_edit",
    "principle_list",
    "principle_merge",
    "principle_reject",
    "principle_seed",
    "results",
    "results_analysis",
    "round_close",
    "round_create",
    "round_detail",
    "round_open",
    "round_shortlist",
    "workshop_create",
    "workshop_detail",
    "workshop_edit",
    "workshop_list",
    "workshop_live",
    "workshop_present",
]
