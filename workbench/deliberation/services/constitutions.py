"""Publishing a constitution: an immutable snapshot of what a rule adopted, and why."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from workbench.accounts.models import User
from workbench.analysis.comparison import RuleSettings, compare_rules
from workbench.analysis.thresholds import agree_share, ccai_rule, overall_threshold_rule
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    RuleCommitment,
    Workshop,
)
from workbench.deliberation.selectors.analysis import analysis_ballots
from workbench.deliberation.selectors.results import PrincipleTally, principle_tallies


@dataclass(frozen=True)
class SelectionRule:
    name: str
    label: StrOrPromise
    description: StrOrPromise
    apply: Callable[..., Any]


RULES: dict[str, SelectionRule] = {
    "ccai": SelectionRule(
        name="ccai",
        label=gettext_lazy("Agree share ≥ threshold in every group (CCAI)"),
        description=gettext_lazy(
            "Keeps principles that at least the threshold share of voters in "
            "every participant group agreed with (passes count as votes)."
        ),
        apply=ccai_rule,
    ),
    "overall": SelectionRule(
        name="overall",
        label=gettext_lazy("Agree share ≥ threshold overall"),
        description=gettext_lazy(
            "Keeps principles whose agree share over all voters, "
            "groups pooled, reaches the threshold."
        ),
        apply=overall_threshold_rule,
    ),
}


def _matrices(
    tallies: list[PrincipleTally], group_ids: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    agree = np.array(
        [[t.per_group[g]["agree"] for g in group_ids] for t in tallies], dtype=float
    ).reshape(len(tallies), len(group_ids))
    total = np.array(
        [[sum(t.per_group[g].values()) for g in group_ids] for t in tallies],
        dtype=float,
    ).reshape(len(tallies), len(group_ids))
    return agree, total


def _agree_share_of_row(row: dict[str, Any]) -> float:
    total = row["agree"] + row["disagree"] + row["pass"]
    return float(row["agree"]) / total if total else 0.0


def rule_parameters_check(
    *, rule: str, threshold: float, min_votes: int = 1
) -> dict[str, Any]:
    """The parameters of a selection rule as stored (on a constitution or a rule
    commitment), or ApplicationError when the rule or a parameter is invalid."""
    if rule not in RULES:
        raise ApplicationError(_("Unknown selection rule “%(rule)s”.") % {"rule": rule})
    if not 0.0 <= threshold <= 1.0:
        raise ApplicationError(_("The threshold is a share between 0 and 1."))
    if min_votes < 1:
        raise ApplicationError(_("At least one vote per group is needed."))
    return {"threshold": threshold, "min_votes": min_votes}


def constitution_preview(
    *, workshop: Workshop, rule: str, threshold: float, min_votes: int = 1
) -> dict[str, Any]:
    """What a rule would adopt now, with every candidate's figures."""
    parameters = rule_parameters_check(
        rule=rule, threshold=threshold, min_votes=min_votes
    )
    groups = list(workshop.groups.order_by("name").values_list("pk", "name"))
    group_ids = [pk for pk, _ in groups]
    tallies = [
        t for t in principle_tallies(workshop=workshop) if t.principle.is_votable
    ]
    agree, total = _matrices(tallies, group_ids)
    adopted = RULES[rule].apply(agree, total, threshold=threshold, min_votes=min_votes)
    shares = agree_share(agree, total)
    figures: list[dict[str, Any]] = []
    for i, t in enumerate(tallies):
        figures.append(
            {
                "id": t.principle.pk,
                "external_id": t.principle.external_id or str(t.principle.pk),
                "text": t.principle.text,
                "version": getattr(t.principle, "n_versions", 1),
                "adopted": bool(adopted[i]) if len(adopted) else False,
                "agree": t.agree,
                "disagree": t.disagree,
                "pass": t.passes,
                "per_group": {
                    name: {
                        **t.per_group[gid],
                        "agree_share": None
                        if np.isnan(shares[i, j])
                        else round(float(shares[i, j]), 6),
                    }
                    for j, (gid, name) in enumerate(groups)
                },
            }
        )
    adopted_rows = [f for f in figures if f["adopted"]]
    # Strongest support first: the order a reader meets the constitution in.
    adopted_rows.sort(key=_agree_share_of_row, reverse=True)
    return {
        "rule": rule,
        "parameters": parameters,
        "groups": [name for _, name in groups],
        "adopted": adopted_rows,
        "figures": figures,
    }


def constitution_comparison(
    *, workshop: Workshop, preview: dict[str, Any], threshold: float, min_votes: int
) -> dict[str, Any]:
    """What every rule would adopt from the same counts the preview shows (the
    CCAI and overall rules at the published threshold), with the ballots of the
    workshop's latest rank round when they rank principles that can be adopted.
    Labels are external ids and group names."""
    figures = preview["figures"]
    groups = preview["groups"]
    counts = np.array(
        [
            [
                [f["per_group"][g][k] for k in ("agree", "disagree", "pass")]
                for g in groups
            ]
            for f in figures
        ],
        dtype=float,
    ).reshape(len(figures), len(groups), 3)
    external = {f["id"]: f["external_id"] for f in figures}
    ballots = analysis_ballots(workshop_id=workshop.pk)
    if not all(pk in external for ballot in ballots for pk in ballot):
        ballots = []
    comparison = compare_rules(
        counts[:, :, 0],
        counts.sum(axis=2),
        principles=[f["external_id"] for f in figures],
        groups=groups,
        ballots=[[external[pk] for pk in ballot] for ballot in ballots] or None,
        settings=RuleSettings(
            ccai_threshold=threshold, overall_threshold=threshold, min_votes=min_votes
        ),
    )
    return comparison.as_dict()


def _content_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _parameters_against_commitment(
    *, workshop: Workshop, rule: str, parameters: dict[str, Any], deviate: bool
) -> dict[str, Any]:
    """The parameters to store: unchanged without a commitment, else with the
    commitment and whether the publication deviates from it. A deviation that
    is not confirmed is refused."""
    commitment = RuleCommitment.objects.filter(workshop=workshop).first()
    if commitment is None:
        return parameters
    deviation = not commitment.matches(rule=rule, parameters=parameters)
    if deviation and not deviate:
        raise ApplicationError(
            _(
                "This differs from the rule committed on %(when)s (%(rule)s, "
                "threshold %(threshold)s, minimum votes %(min_votes)s). Confirm "
                "that you deviate from the committed rule to publish it."
            )
            % {
                "when": date_format(
                    timezone.localtime(commitment.committed_at), "DATETIME_FORMAT"
                ),
                "rule": commitment.get_rule_display(),
                "threshold": commitment.parameters.get("threshold"),
                "min_votes": commitment.parameters.get("min_votes"),
            }
        )
    return {**parameters, "committed": commitment.as_record(), "deviation": deviation}


@transaction.atomic
def constitution_publish(
    *,
    workshop: Workshop,
    actor: User,
    title: str,
    rule: str,
    threshold: float,
    min_votes: int = 1,
    deviate: bool = False,
) -> Constitution:
    """Publishes what `rule` adopts now. When the workshop has committed to a
    rule (RuleCommitment, the latest counts), publishing with another rule or
    other parameters needs `deviate=True`; the commitment and whether the
    publication deviates from it are stored in the constitution's parameters."""
    # Lock the workshop so two publishes at once each see a consistent snapshot,
    # and a rule committed meanwhile is the one compared against.
    Workshop.objects.select_for_update(no_key=True).get(pk=workshop.pk)
    preview = constitution_preview(
        workshop=workshop, rule=rule, threshold=threshold, min_votes=min_votes
    )
    parameters = _parameters_against_commitment(
        workshop=workshop, rule=rule, parameters=preview["parameters"], deviate=deviate
    )
    if not preview["adopted"]:
        raise ApplicationError(
            _(
                "No principle passes this rule yet; "
                "lower the threshold or wait for more votes."
            )
        )
    principles = [
        {
            "id": f["id"],
            "external_id": f["external_id"],
            "text": f["text"],
            "version": f["version"],
        }
        for f in preview["adopted"]
    ]
    now = timezone.now()
    title = title.strip() or f"{workshop.title}: constitution"
    body = {
        "workshop": workshop.slug,
        "title": title,
        "rule": rule,
        "parameters": parameters,
        "principles": principles,
        "figures": {
            "groups": preview["groups"],
            "principles": preview["figures"],
            # What the other rules would have adopted from the same counts.
            "comparison": constitution_comparison(
                workshop=workshop,
                preview=preview,
                threshold=threshold,
                min_votes=min_votes,
            ),
        },
        "published_at": now.isoformat(),
    }
    constitution = Constitution.objects.create(
        workshop=workshop,
        title=title,
        rule=rule,
        parameters=parameters,
        principles=principles,
        figures=body["figures"],
        content_hash=_content_hash(body),
        published_by=actor,
        published_at=now,
    )
    ModerationEvent.objects.create(
        workshop=workshop,
        actor=actor,
        action=ModerationEvent.Action.PUBLISH,
        data={
            "constitution": constitution.pk,
            "rule": rule,
            **preview["parameters"],
            # Whether it was published under the rule fixed beforehand (None: no
            # rule was fixed).
            "deviation": constitution.parameters.get("deviation"),
        },
    )
    return constitution
