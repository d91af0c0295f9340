"""Reword a principle and test it again; its versions side by side.

Rewording (:func:`principle_reword`) is the facilitator's answer to the drill-down:
the new wording becomes a new :class:`PrincipleVersion` through the moderation
service (``principle_edit``, so it is logged like any edit), and the comparison set
gets one item for the new version per (prompt, response A, response B) the previous
version had there. The next judge run over the set asks the judge only about the
new items: every other verdict is a cache hit (same texts, same judge).

Comparison (:func:`version_comparison`) reports each principle that has two or more
versions on a run's items, one row per version, with
:func:`workbench.judging.metrics.principle_report` figures. A reworded version has
no human labels of its own at first. Its judge figures are then computed against
the labels participants gave on the same prompt and pair under the latest earlier
version that has labels, and the row says which (``labels_from_version``). The
participants' labels record what they meant; the rewording tries to make the judge
read it that way, so the old labels are the right yardstick for the new wording.
As soon as a version has labels of its own (participants judged its items), only
those are used. Pairs are matched exactly (same prompt, same response A, same
response B), as :func:`principle_reword` creates them.

``judge_agreement_change`` is the change in judge agreement from the first version
on the set, in percentage points (None when either figure is undefined).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final

import pandas as pd
from django.db import transaction
from django.utils.translation import gettext

from workbench.accounts.models import User
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Principle, PrincipleVersion, Workshop
from workbench.deliberation.services.principles import principle_edit
from workbench.judging.metrics import principle_report
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    HumanJudgment,
    JudgeRun,
)
from workbench.judging.services.encoding_gap import (
    verdict_frame,
    verdict_rows,
)

__all__ = ["VERSION_FIGURES", "principle_reword", "version_comparison"]

VERSION_FIGURES: Final = (
    "relevance",
    "human_ceiling",
    "judge_agreement",
    "gap",
    "normalized_agreement",
    "kappa",
)
"""The figures of each version row; each has its interval in the row's ``ci``."""

EXTERNAL_ID_MAX: Final = 64

Pair = tuple[int, int, int]
"""(prompt, response A, response B) primary keys."""


def _pair(item: ComparisonItem) -> Pair:
    return (item.prompt_id, item.response_a_id, item.response_b_id)


@transaction.atomic
def principle_reword(
    *,
    principle: Principle,
    text: str,
    actor: User,
    comparison_set: ComparisonSet,
) -> PrincipleVersion:
    """Makes ``text`` the principle's new version and puts it on every pair its
    previous version had in ``comparison_set``. Returns the new version.

    The previous version is the latest version of the principle with items in the
    set. Empty, too long or unchanged text, a principle of another workshop and a
    principle without items in the set are refused with an ApplicationError, and
    nothing is stored.
    """
    if principle.workshop_id != comparison_set.workshop_id:
        raise ApplicationError(
            gettext("This principle does not belong to the comparison set's workshop.")
        )
    previous = (
        PrincipleVersion.objects.filter(
            principle=principle, comparison_items__comparison_set=comparison_set
        )
        .order_by("-number")
        .first()
    )
    if previous is None:
        raise ApplicationError(
            gettext("The principle has no items in “%(name)s” to test again.")
            % {"name": comparison_set.name}
        )
    principle_edit(
        principle=principle,
        text=text,
        actor=actor,
        reason=f"Reworded to test again on “{comparison_set.name}”.",
    )
    principle.refresh_from_db(fields=["text", "updated_at"])
    # principle_edit has just added the latest version, under the principle's lock.
    version = principle.versions.order_by("-number")[0]
    old_items = list(
        ComparisonItem.objects.filter(
            comparison_set=comparison_set, principle_version=previous
        ).order_by("id")
    )
    taken = set(
        ComparisonItem.objects.filter(comparison_set=comparison_set)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    ComparisonItem.objects.bulk_create(
        [
            ComparisonItem(
                comparison_set=comparison_set,
                principle_version=version,
                prompt_id=item.prompt_id,
                response_a_id=item.response_a_id,
                response_b_id=item.response_b_id,
                external_id=_external_id(item.external_id, version.number, taken),
            )
            for item in old_items
        ]
    )
    return version


def _external_id(old: str, number: int, taken: set[str]) -> str:
    """``<old id>~v<number>`` so the drill-down names the pair the same way across
    versions; empty when the old item had none, or the name is too long or taken."""
    if not old:
        return ""
    candidate = f"{old}~v{number}"
    if len(candidate) > EXTERNAL_ID_MAX or candidate in taken:
        return ""
    taken.add(candidate)
    return candidate


# --- versions side by side ---------------------------------------------------------


def version_comparison(
    *,
    workshop: Workshop,
    run: JudgeRun,
    rng_seed: int = 0,
    n_resamples: int = 1000,
    noise_repeats: int = 50,
) -> list[dict[str, Any]]:
    """Per principle with two or more versions on the run's set, its versions side
    by side (module docstring), oldest first. Principles ordered by first item."""
    if run.comparison_set.workshop_id != workshop.pk:
        msg = f"run {run.pk} does not belong to workshop {workshop.slug!r}"
        raise ValueError(msg)
    items = list(
        ComparisonItem.objects.filter(comparison_set_id=run.comparison_set_id)
        .select_related("principle_version__principle")
        .order_by("id")
    )
    by_principle: dict[int, dict[int, list[ComparisonItem]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for item in items:
        version = item.principle_version
        by_principle[version.principle_id][version.pk].append(item)
    multi = {p: v for p, v in by_principle.items() if len(v) >= 2}
    if not multi:
        return []
    wanted = [i.pk for versions in multi.values() for v in versions.values() for i in v]
    labels_of: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for item_id, participant_id, label in HumanJudgment.objects.filter(
        item__in=wanted
    ).values_list("item_id", "participant_id", "label"):
        labels_of[item_id].append((item_id, participant_id, label))
    verdicts = verdict_frame(verdict_rows(run))
    judged = set(verdicts["item"].tolist())

    out = []
    for versions in multi.values():
        ordered = sorted(versions.values(), key=lambda v: v[0].principle_version.number)
        rows = _version_rows(
            ordered,
            labels_of,
            verdicts,
            judged,
            rng_seed=rng_seed,
            n_resamples=n_resamples,
            noise_repeats=noise_repeats,
        )
        principle = ordered[0][0].principle_version.principle
        out.append(
            {
                "principle_id": principle.pk,
                "external_id": principle.external_id or str(principle.pk),
                "text": principle.text,
                "versions": rows,
            }
        )
    return out


def _version_rows(
    ordered: list[list[ComparisonItem]],
    labels_of: dict[int, list[tuple[int, int, str]]],
    verdicts: pd.DataFrame,
    judged: set[int],
    **kw: Any,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # Labels of the versions seen so far, newest last: (number, pair -> labels).
    labelled: list[tuple[int, dict[Pair, list[tuple[int, str]]]]] = []
    for version_items in ordered:
        version = version_items[0].principle_version
        item_ids = {i.pk for i in version_items}
        own = [row for pk in sorted(item_ids) for row in labels_of.get(pk, [])]
        source: int | None = None
        if not own:
            source, own = _borrowed(version_items, labelled)
        else:
            by_pair: dict[Pair, list[tuple[int, str]]] = defaultdict(list)
            for item in version_items:
                for _, rater, label in labels_of.get(item.pk, []):
                    by_pair[_pair(item)].append((rater, label))
            labelled.append((version.number, by_pair))
        labels = pd.DataFrame(own, columns=["item", "rater", "label"])
        mine = verdicts[verdicts["item"].isin(item_ids)].reset_index(drop=True)
        # No group column: per-group figures and their permutation test are the
        # report's business, not this table's.
        report = principle_report(labels, mine, **kw)
        ci = report["ci"]
        row: dict[str, Any] = {
            "version_id": version.pk,
            "number": version.number,
            "text": version.text,
            "n_items": len(item_ids),
            "n_judged": len(item_ids & judged),
            "n_labels": report["n_human_labels"],
            "labels_from_version": source,
        }
        row |= {key: report[key] for key in VERSION_FIGURES}
        row["ci"] = {key: ci.get(key) for key in VERSION_FIGURES}
        rows.append(row)
    first = rows[0]["judge_agreement"]
    for row in rows:
        now = row["judge_agreement"]
        row["judge_agreement_change"] = (
            None if first is None or now is None else 100.0 * (now - first)
        )
    return rows


def _borrowed(
    version_items: list[ComparisonItem],
    labelled: list[tuple[int, dict[Pair, list[tuple[int, str]]]]],
) -> tuple[int | None, list[tuple[int, int, str]]]:
    """The labels of the latest earlier version with labels, moved onto this
    version's items of the same pair; (None, []) when no earlier version has any."""
    for number, by_pair in reversed(labelled):
        rows = [
            (item.pk, rater, label)
            for item in version_items
            for rater, label in by_pair.get(_pair(item), [])
        ]
        if rows:
            return number, rows
    return None, []
