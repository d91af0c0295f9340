"""The judging part of the demo: a comparison set a newcomer can open at once.

Real prompts and responses: the first short pairs of Anthropic's HH-RLHF harmless
test split (`../shared/data/preferences/hh_rlhf_harmless_base_test`, MIT), judged
under one harmlessness principle. The raters are synthetic and say so: eight
nurses and eight teachers whose answers are drawn around the HH-RLHF crowdworker's
own choice (nurses side with it more often than teachers), so the report has a
human ceiling, per-group figures and a gap to show. The offline similarity
baseline then judges every pair in both orders, and a compare round linked to the
set lets a visitor judge the same pairs on their phone.

Everything goes through the services a facilitator's pages use: the import (from a
file in the workbench's own format), the round, and the judge run.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Final

from django.conf import settings

from workbench.accounts.models import User
from workbench.deliberation.models import Round, Workshop
from workbench.deliberation.services.rounds import round_create, round_open
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.comparisons.reader import read_comparison_file
from workbench.judging.models import ComparisonSet, JudgeProvider
from workbench.judging.services.runs import (
    judge_config_get_or_create,
    judge_run_execute,
    judge_run_start,
)

HH_FILE: Final = Path("hh_rlhf_harmless_base_test") / "test.jsonl.gz"
SET_NAME: Final = "HH-RLHF harmlessness sample"
PRINCIPLE: Final = (
    "The assistant should not help with anything that could hurt the user or "
    "someone else, and should say kindly why it will not."
)
N_PAIRS: Final = 24
MAX_PROMPT_CHARS: Final = 500
MAX_RESPONSE_CHARS: Final = 400
RATERS_PER_GROUP: Final = 8
# Probability that a synthetic rater of the group picks the crowdworker's choice;
# the rest is split between the other response, "equally good" and "does not apply".
SIDES_WITH_CROWDWORKER: Final = {"Nurses": 0.85, "Teachers": 0.65}
TIE_SHARE: Final = 0.06
NOT_APPLICABLE_SHARE: Final = 0.04


def preferences_data_dir() -> Path:
    # The preference data sits beside the Polis data in ../shared/data.
    return Path(str(settings.WORKBENCH["POLIS_DATA_DIR"])).parent / "preferences"


def judging_demo_build(
    *, workshop: Workshop, user: User, rng: random.Random
) -> ComparisonSet:
    """Imports the demo comparison set into ``workshop``, links it to an open
    compare round and runs the offline baseline over it in this process."""
    rows = _short_pairs(preferences_data_dir() / HH_FILE)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hh-rlhf-demo.jsonl"
        path.write_text(_own_format_lines(rows, rng), encoding="utf-8")
        summary = comparisons_import(
            workshop=workshop, path=path, fmt="workbench", name=SET_NAME
        )
    comparison_set = summary.comparison_set
    compare = round_create(
        workshop=workshop,
        kind=Round.Kind.COMPARE,
        title="Compare: which answer follows the principle?",
    )
    round_open(round_=compare, actor=user)
    comparison_set.round = compare
    comparison_set.save(update_fields=["round"])
    config = judge_config_get_or_create(provider=JudgeProvider.OFFLINE)
    run = judge_run_start(
        comparison_set=comparison_set, config=config, actor=user, enqueue=False
    )
    judge_run_execute(run_id=run.pk, reenqueue=False)
    return comparison_set


def _short_pairs(path: Path) -> list[tuple[str, str, str, str]]:
    """(prompt, response_a, response_b, crowdworker's label) of the first short
    pairs, so they read well on a phone."""
    parsed = read_comparison_file(path, fmt="hh-rlhf", principle=PRINCIPLE)
    kept = []
    for row in parsed.rows:
        if (
            len(row.prompt) <= MAX_PROMPT_CHARS
            and max(len(row.response_a), len(row.response_b)) <= MAX_RESPONSE_CHARS
            and min(len(row.response_a.strip()), len(row.response_b.strip())) > 0
            and row.label in {"a", "b"}
        ):
            kept.append((row.prompt, row.response_a, row.response_b, str(row.label)))
        if len(kept) == N_PAIRS:
            break
    return kept


def _own_format_lines(rows: list[tuple[str, str, str, str]], rng: random.Random) -> str:
    lines = []
    for index, (prompt, response_a, response_b, chosen) in enumerate(rows, start=1):
        for group, share in SIDES_WITH_CROWDWORKER.items():
            for rater in range(1, RATERS_PER_GROUP + 1):
                record = {
                    "item": f"hh-{index}",
                    "principle": PRINCIPLE,
                    "prompt": prompt,
                    "response_a": response_a,
                    "response_b": response_b,
                    "label": _synthetic_label(rng, chosen, share),
                    "annotator": f"synthetic-{group.lower()}-{rater}",
                    "group": group,
                }
                lines.append(json.dumps(record, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _synthetic_label(rng: random.Random, chosen: str, share: float) -> str:
    draw = rng.random()
    if draw < NOT_APPLICABLE_SHARE:
        return "na"
    if draw < NOT_APPLICABLE_SHARE + TIE_SHARE:
        return "tie"
    if rng.random() < share:
        return chosen
    return "b" if chosen == "a" else "a"
