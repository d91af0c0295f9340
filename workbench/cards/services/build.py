"""Value cards (DESIGN.md "Value cards"; Kasirzadeh, papers/001): one per adopted
principle and one per published constitution, assembled from the stored records
every time they are asked for. Only the narrative is typed in, by the
facilitator (CardNarrative), and the card says so.

`content_hash` is the sha256 of the canonical JSON (sorted keys, no whitespace,
UTF-8) of the card without `built_at` and without the hash itself: everything
the card states is derived from the records, so the same records give the same
hash, any change in them (one vote) gives another, and anyone holding the JSON
can recompute it (docs/value-cards.md).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from workbench.cards import pluralism
from workbench.cards.schema import SCHEMA_VERSION
from workbench.cards.services.context import CardContext, card_context
from workbench.cards.services.review import card_review_summary
from workbench.cards.services.sections import (
    analysis_row,
    criteria_section,
    demographics,
    encoding_gap_entry,
    iso,
    measurement_section,
    moderation_summary,
    not_measured,
    origin_section,
    supporters,
    votes_per_day,
)
from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    Principle,
    Vote,
    Workshop,
)
from workbench.deliberation.services.commitments import rule_commitment_status
from workbench.deliberation.services.constitutions import RULES


def content_hash(card: dict[str, Any]) -> str:
    """The hash a card carries (module docstring): recompute it from a card's
    JSON to verify it."""
    body = copy.deepcopy(card)
    body.pop("built_at", None)
    body.get("legitimacy", {}).pop("content_hash", None)
    canonical = json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _review(**subject: Any) -> dict[str, Any]:
    return card_review_summary(**subject)


def _workshop_json(workshop: Workshop) -> dict[str, str]:
    return {
        "slug": workshop.slug,
        "title": workshop.title,
        "question": workshop.question,
        "source": workshop.source,
    }


def _principle_card_id(workshop: Workshop, principle: Principle) -> str:
    return f"{workshop.slug}/principle/{principle.external_id or principle.pk}"


def _constitution_card_id(constitution: Constitution) -> str:
    return f"{constitution.workshop.slug}/constitution/{constitution.pk}"


def _thresholds(ctx: CardContext, vote_range: dict[str, Any]) -> dict[str, Any]:
    """The decision rule and when it was fixed against when voting happened: the
    commitment made before the workshop's first vote (else the latest one), and
    whether the published constitution kept to it. Without a commitment, the
    rule is only known from the publication."""
    status = rule_commitment_status(workshop=ctx.workshop)
    commitment = status.reported
    if commitment is None:
        return _thresholds_at_publication(ctx, vote_range)
    c = ctx.constitution
    fixed_in_time = status.fixed_in_time(commitment)
    latest = status.latest
    changed = latest is not None and latest.pk != commitment.pk
    matches = (
        None if c is None else commitment.matches(rule=c.rule, parameters=c.parameters)
    )
    notes = [
        _("The rule was committed before the workshop's first vote.")
        if fixed_in_time
        else _("The rule was committed after voting had started.")
    ]
    if changed:
        notes.append(_("A later commitment changed the rule after voting started."))
    if matches is False:
        notes.append(_("The constitution was published under another rule."))
    return {
        "rule": commitment.rule,
        "parameters": commitment.parameters,
        "fixed_at": iso(commitment.committed_at),
        **vote_range,
        "voting_started_at": iso(status.voting_started_at),
        "fixed_before_voting": fixed_in_time,
        "commitment": {
            "committed_at": iso(commitment.committed_at),
            "content_hash": commitment.content_hash,
            "superseded_by": None
            if latest is None or not changed
            else {
                "rule": latest.rule,
                "parameters": latest.parameters,
                "committed_at": iso(latest.committed_at),
            },
        },
        "published": None
        if c is None
        else {
            "rule": c.rule,
            "parameters": {k: c.parameters.get(k) for k in ("threshold", "min_votes")},
        },
        "matches_published": matches,
        # As recorded at publication, against the commitment current then.
        "deviation": None if c is None else c.parameters.get("deviation"),
        "note": " ".join(notes),
    }


def _thresholds_at_publication(
    ctx: CardContext, vote_range: dict[str, Any]
) -> dict[str, Any]:
    c = ctx.constitution
    if c is None:
        return {
            "rule": None,
            "parameters": {},
            "fixed_at": None,
            **vote_range,
            "fixed_before_voting": None,
            "note": _(
                "No rule was committed and no constitution has been published, "
                "so no rule was fixed."
            ),
        }
    first = vote_range["first_vote_at"]
    return {
        "rule": c.rule,
        "parameters": c.parameters,
        "fixed_at": c.published_at.isoformat(),
        **vote_range,
        "fixed_before_voting": None
        if first is None
        else c.published_at.isoformat() < first,
        "note": _(
            "No rule was committed before voting: the parameters are recorded "
            "only when the constitution is published."
        ),
    }


def _vote_range(votes: Any) -> dict[str, Any]:
    first = votes.order_by("cast_at").values_list("cast_at", flat=True).first()
    last = votes.order_by("-cast_at").values_list("cast_at", flat=True).first()
    return {"first_vote_at": iso(first), "last_vote_at": iso(last)}


def _other_rules(ctx: CardContext, external_id: str) -> dict[str, bool]:
    """What each rule decided: from the constitution's snapshot when one is
    published, else from the latest analysis (`rules` of `analyze --json`)."""
    if ctx.constitution is not None:
        outcomes = ctx.constitution.figures.get("comparison", {}).get("outcomes", [])
        return {o["rule"]: external_id in o["adopted"] for o in outcomes}
    rules = (ctx.analysis or {}).get("rules", {})
    return {rule: external_id in ids for rule, ids in rules.items()}


def _dissent(ctx: CardContext, principle: Principle) -> dict[str, Any]:
    row = analysis_row(ctx, principle)
    source = "analysis"
    per_group = (row or {}).get("per_participant_group", {})
    if ctx.constitution is not None:
        for f in ctx.constitution.figures.get("principles", []):
            if f["id"] == principle.pk:
                per_group, source = f["per_group"], "constitution"
    out = {}
    for group, c in sorted(per_group.items()):
        total = c["agree"] + c["disagree"] + c["pass"]
        out[group] = {
            "disagree": c["disagree"],
            "votes": total,
            "disagree_share": round(c["disagree"] / total, 6) if total else None,
        }
    disagree = sum(v["disagree"] for v in out.values())
    votes = sum(v["votes"] for v in out.values())
    return {
        "source": source,
        "per_group": out,
        "disagree": disagree,
        "disagree_share": round(disagree / votes, 6) if votes else None,
    }


def aggregation_section(ctx: CardContext, principle: Principle) -> dict[str, Any]:
    external = principle.external_id or str(principle.pk)
    c = ctx.constitution
    adopted = None
    if c is not None:
        adopted = any(p["id"] == principle.pk for p in c.principles)
    return {
        "rule": c.rule if c else None,
        "rule_label": str(RULES[c.rule].label) if c and c.rule in RULES else None,
        "parameters": c.parameters if c else {},
        "adopted": adopted,
        "constitution": None
        if c is None
        else {"id": c.pk, "title": c.title, "published_at": iso(c.published_at)},
        "other_rules": _other_rules(ctx, external),
        "dissent": _dissent(ctx, principle),
    }


def _signals(
    measurement: dict[str, Any], row: dict[str, Any] | None
) -> dict[str, bool | None]:
    """Does each independent measure support the principle? Votes: agree share
    over all votes at least a half. Ranking: mean Borda share at least a half.
    Judge: the judge agrees with people at least as often as chance would
    (normalised agreement above 0), i.e. the wording carries its meaning."""
    votes = None
    if row is not None:
        total = row["agree"] + row["disagree"] + row["pass"]
        votes = row["agree"] / total >= 0.5 if total else None
    ranking = None
    if measurement["ranking"]["measured"]:
        shares = [
            r["borda_share"]
            for r in measurement["ranking"]["rounds"]
            if r["borda_share"] is not None
        ]
        ranking = sum(shares) / len(shares) >= 0.5 if shares else None
    judge = None
    gap = measurement["encoding_gap"]
    if gap["measured"] and gap.get("normalized_agreement") is not None:
        judge = gap["normalized_agreement"] > 0
    return {"votes": votes, "ranking": ranking, "judge": judge}


def _build_principle(ctx: CardContext, principle: Principle) -> dict[str, Any]:
    measurement = measurement_section(ctx, principle)
    aggregation = aggregation_section(ctx, principle)
    origin = origin_section(ctx, principle)
    events = list(ModerationEvent.objects.filter(principle=principle))
    votes = Vote.objects.filter(principle=principle)
    vote_range = _vote_range(votes)
    support = {
        g: (c["agree"], c["agree"] + c["disagree"] + c["pass"])
        for g, c in origin["supporters"]["per_group"].items()
    }
    card: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "principle",
        "id": _principle_card_id(ctx.workshop, principle),
        "title": principle.text,
        "workshop": _workshop_json(ctx.workshop),
        "built_at": timezone.now().isoformat(),
        "criteria": criteria_section(principle),
        "origin": origin,
        "measurement": measurement,
        "aggregation": aggregation,
        "legitimacy": {
            "narrative": dict(ctx.narrative),
            "thresholds": _thresholds(ctx, vote_range),
            "moderation": moderation_summary(events),
            "review": _review(principle=principle),
            "participation": {
                "participants": origin["supporters"]["participants"],
                "votes_per_day": votes_per_day([principle.pk], ctx.workshop.pk),
            },
            "timestamps": {
                "proposed_at": iso(principle.created_at),
                **vote_range,
                "analysis_computed_at": ctx.analysis_computed_at,
                "constitution_published_at": iso(
                    ctx.constitution.published_at if ctx.constitution else None
                ),
            },
            "content_hash": "",
        },
        "pluralism": {
            "origin": pluralism.origin_pluralism(support).as_dict(),
            "aggregation": pluralism.rule_agreement(
                aggregation["other_rules"]
            ).as_dict(),
            "measurement": pluralism.measurement_agreement(
                _signals(measurement, analysis_row(ctx, principle))
            ).as_dict(),
        },
    }
    card["legitimacy"]["content_hash"] = content_hash(card)
    return card


def _principles_query(workshop: Workshop) -> Any:
    return Principle.objects.filter(workshop=workshop).select_related(
        "round", "author__group", "group"
    )


def card_for_principle(*, principle: Principle) -> dict[str, Any]:
    """The value card of one principle."""
    ctx = card_context(workshop=principle.workshop)
    return _build_principle(ctx, principle)


def _build_constitution(ctx: CardContext, constitution: Constitution) -> dict[str, Any]:
    workshop = ctx.workshop
    ids = [p["id"] for p in constitution.principles]
    principles = _principles_query(workshop).in_bulk(ids)
    comparison = constitution.figures.get("comparison", {})
    adopted_sets = {o["rule"]: o["adopted"] for o in comparison.get("outcomes", [])}
    events = list(ModerationEvent.objects.filter(workshop=workshop))
    votes = Vote.objects.filter(principle_id__in=ids)
    vote_range = _vote_range(votes)
    support = supporters(ctx, ids)
    gap_rows = []
    for pk in ids:
        if pk in principles:
            entry = encoding_gap_entry(ctx, principles[pk])
            if entry is not None:
                gap_rows.append(
                    {
                        "id": _principle_card_id(workshop, principles[pk]),
                        **{
                            k: entry.get(k)
                            for k in ("human_ceiling", "judge_agreement", "gap")
                        },
                    }
                )
    text = "\n".join(
        f"{i}. {p['text']}" for i, p in enumerate(constitution.principles, 1)
    )
    card: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "constitution",
        "id": _constitution_card_id(constitution),
        "title": constitution.title,
        "workshop": _workshop_json(workshop),
        "built_at": timezone.now().isoformat(),
        "criteria": {
            "text": text,
            "versions": [],
            "examples": [],
            "examples_rule": _("See the principles' cards."),
        },
        "origin": {
            "proposed_by": {"kind": "constitution", "group": None},
            "round": None,
            "merged_from": [],
            "supporters": support,
            "demographics": demographics(ids),
        },
        "measurement": {
            "votes": {
                "measured": True,
                "analysis_computed_at": ctx.analysis_computed_at,
                **support["overall"],
                "per_group": {
                    g: {k: c[k] for k in ("agree", "disagree", "pass")}
                    for g, c in support["per_group"].items()
                },
                "per_opinion_group": {},
                "group_aware_consensus": None,
            },
            "ranking": not_measured(_("See the principles' cards.")),
            "comparisons": not_measured(_("See the principles' cards.")),
            "judges": [ctx.encoding_gap["judge"]]
            if ctx.encoding_gap.get("judge")
            else [],
            "encoding_gap": {"measured": True, "principles": gap_rows}
            if gap_rows
            else not_measured(_("No adopted principle has been tested by a judge.")),
        },
        "aggregation": {
            "rule": constitution.rule,
            "rule_label": str(RULES[constitution.rule].label)
            if constitution.rule in RULES
            else None,
            "parameters": constitution.parameters,
            "adopted": True,
            "constitution": {
                "id": constitution.pk,
                "title": constitution.title,
                "published_at": iso(constitution.published_at),
                "content_hash": constitution.content_hash,
            },
            "other_rules": adopted_sets,
            "adopted_by_all": comparison.get("adopted_by_all", []),
            "dissent": {
                "source": "constitution",
                "disagreements": comparison.get("disagreements", []),
            },
        },
        "legitimacy": {
            "narrative": dict(ctx.narrative),
            "thresholds": _thresholds(ctx, vote_range),
            "moderation": moderation_summary(events),
            "review": _review(constitution=constitution),
            "participation": {
                "participants": support["participants"],
                "votes_per_day": votes_per_day(None, workshop.pk),
            },
            "timestamps": {
                "workshop_created_at": iso(workshop.created_at),
                **vote_range,
                "analysis_computed_at": ctx.analysis_computed_at,
                "constitution_published_at": iso(constitution.published_at),
            },
            "content_hash": "",
        },
        "pluralism": {
            "origin": pluralism.origin_pluralism(
                {
                    g: (c["agree"], c["agree"] + c["disagree"] + c["pass"])
                    for g, c in support["per_group"].items()
                }
            ).as_dict(),
            "aggregation": pluralism.rule_set_agreement(adopted_sets).as_dict(),
            "measurement": pluralism.Measure(
                None,
                pluralism.MEASURES_METHOD,
                _("Measured per principle; see the principles' cards."),
            ).as_dict(),
        },
        "principles": [
            _principle_card_id(workshop, principles[pk])
            for pk in ids
            if pk in principles
        ],
    }
    card["legitimacy"]["content_hash"] = content_hash(card)
    return card


def card_for_constitution(*, constitution: Constitution) -> dict[str, Any]:
    """The value card of a published constitution."""
    ctx = card_context(workshop=constitution.workshop)
    return _build_constitution(ctx, constitution)


def cards_for_workshop(*, workshop: Workshop) -> list[dict[str, Any]]:
    """The latest constitution's card, then one card per principle it adopted;
    with no constitution, one card per approved principle."""
    ctx = card_context(workshop=workshop)
    if ctx.constitution is not None:
        ids = [p["id"] for p in ctx.constitution.principles]
        found = _principles_query(workshop).in_bulk(ids)
        return [_build_constitution(ctx, ctx.constitution)] + [
            _build_principle(ctx, found[pk]) for pk in ids if pk in found
        ]
    approved = _principles_query(workshop).filter(
        status=Principle.Status.APPROVED, merged_into__isnull=True
    )
    return [_build_principle(ctx, p) for p in approved.order_by("created_at", "id")]
