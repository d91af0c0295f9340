"""Seeding, proposing and moderating principles. Every action is logged."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from workbench.accounts.models import User
from workbench.core.errors import ApplicationError, RateLimitedError
from workbench.deliberation.models import (
    ModerationEvent,
    Participant,
    ParticipantGroup,
    Principle,
    PrincipleVersion,
    Round,
    Workshop,
)
from workbench.deliberation.selectors.principles import (
    SimilarPrinciple,
    normalize_text,
    principle_find_similar,
)
from workbench.deliberation.services.analysis import analysis_request_on_commit
from workbench.deliberation.services.rounds import round_hold_for_input


class NearDuplicateError(ApplicationError):
    """The text is close to existing principles; the caller may confirm and resubmit."""

    def __init__(self, matches: list[SimilarPrinciple]) -> None:
        super().__init__("This looks like a principle that is already there.")
        self.matches = matches


def _clean_text(text: str) -> str:
    text = " ".join(text.split())
    limit = settings.WORKBENCH["PRINCIPLE_MAX_LENGTH"]
    if not text:
        raise ApplicationError(gettext("Write the principle before submitting it."))
    if len(text) > limit:
        raise ApplicationError(
            gettext(
                "Please keep a principle under %(limit)s characters "
                "(this one has %(length)s)."
            )
            % {"limit": limit, "length": len(text)}
        )
    return text


def _log(
    *,
    workshop_id: int,
    action: str,
    principle: Principle | None = None,
    actor: User | None = None,
    reason: str = "",
    data: dict[str, object] | None = None,
) -> ModerationEvent:
    # Every change to what is on the agenda, or how it reads, refreshes the analysis.
    analysis_request_on_commit(workshop_id=workshop_id)
    return ModerationEvent.objects.create(
        workshop_id=workshop_id,
        principle=principle,
        actor=actor,
        action=action,
        reason=reason,
        data=data or {},
    )


def _create(
    *,
    workshop: Workshop,
    text: str,
    status: str,
    round_: Round | None = None,
    group: ParticipantGroup | None = None,
    author: Participant | None = None,
    is_seed: bool = False,
    edited_by: User | None = None,
) -> Principle:
    principle = Principle.objects.create(
        workshop=workshop,
        round=round_,
        group=group,
        author=author,
        text=text,
        status=status,
        is_seed=is_seed,
    )
    PrincipleVersion.objects.create(
        principle=principle,
        number=1,
        text=text,
        edited_by=edited_by,
        created_at=principle.created_at,
    )
    return principle


def _lock_workshop(workshop_id: int) -> Workshop:
    """The workshop under its row lock: serialises the exact-duplicate check and the
    insert that follows it across every writer of the workshop's principles."""
    return Workshop.objects.select_for_update(no_key=True).get(pk=workshop_id)


@transaction.atomic
def principle_seed(
    *,
    workshop: Workshop,
    text: str,
    actor: User,
    group: ParticipantGroup | None = None,
) -> Principle:
    """A facilitator's principle: approved at once, marked as a seed."""
    text = _clean_text(text)
    if group is not None and group.workshop_id != workshop.pk:
        raise ApplicationError(gettext("That group belongs to another workshop."))
    workshop = _lock_workshop(workshop.pk)
    if principle_find_similar(workshop=workshop, text=text, exact_only=True):
        raise ApplicationError(gettext("This principle is already in the workshop."))
    principle = _create(
        workshop=workshop,
        text=text,
        status=Principle.Status.APPROVED,
        group=group,
        is_seed=True,
        edited_by=actor,
    )
    _log(
        workshop_id=workshop.pk,
        action=ModerationEvent.Action.SEED,
        principle=principle,
        actor=actor,
    )
    return principle


def _check_rate_limit(participant: Participant) -> None:
    limit = settings.WORKBENCH["PROPOSALS_PER_HOUR"]
    now = timezone.now()
    window = timedelta(hours=1)
    # The limit-th latest proposal within the hour (0: none may be proposed): the
    # next proposal is accepted when it leaves the window.
    latest = (
        participant.principles.filter(created_at__gte=now - window)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
    )
    nth_latest = next(iter(latest[limit - 1 : limit]), None) if limit > 0 else now
    if nth_latest is not None:
        wait = nth_latest + window - now
        raise RateLimitedError(
            ngettext(
                "You have proposed %(limit)s principle in the last hour; "
                "please wait a while before proposing more.",
                "You have proposed %(limit)s principles in the last hour; "
                "please wait a while before proposing more.",
                limit,
            )
            % {"limit": limit},
            extra={"retry_after": max(1, math.ceil(wait.total_seconds()))},
        )


@transaction.atomic
def principle_propose(
    *,
    participant: Participant,
    round_: Round,
    text: str,
    confirm_similar: bool = False,
) -> Principle:
    """A participant's proposal in an open propose round.

    Exact duplicates are refused; near duplicates raise NearDuplicateError unless the
    participant confirmed. Under strict moderation the principle waits for approval.
    """
    text = _clean_text(text)
    # Locks, always in this order: the round (shared; a concurrent close waits), the
    # participant (their double click cannot slip past the rate check), the workshop
    # (two participants sending the same words at once cannot both pass the
    # duplicate check).
    round_ = round_hold_for_input(round_=round_)
    participant = Participant.objects.select_for_update(no_key=True).get(
        pk=participant.pk
    )
    if round_.workshop_id != participant.workshop_id or not round_.admits_group(
        participant.group_id
    ):
        raise ApplicationError(gettext("This round is not open to your group."))
    if round_.kind != Round.Kind.PROPOSE:
        raise ApplicationError(gettext("This round is not for proposing principles."))
    if not round_.is_open_at(timezone.now()):
        raise ApplicationError(
            gettext("This round is closed; nothing more can be proposed in it.")
        )
    workshop = _lock_workshop(participant.workshop_id)
    matches = principle_find_similar(workshop=workshop, text=text)
    if any(match.exact for match in matches):
        raise ApplicationError(gettext("This principle has already been proposed."))
    _check_rate_limit(participant)
    if matches and not confirm_similar:
        raise NearDuplicateError(matches)
    status = (
        Principle.Status.PENDING
        if workshop.strict_moderation
        else Principle.Status.APPROVED
    )
    principle = _create(
        workshop=workshop,
        text=text,
        status=status,
        round_=round_,
        group=participant.group,
        author=participant,
    )
    _log(
        workshop_id=workshop.pk,
        action=ModerationEvent.Action.PROPOSE,
        principle=principle,
        data={"status": status, "group": participant.group.name},
    )
    return principle


def _lock(principle: Principle) -> Principle:
    return Principle.objects.select_for_update(no_key=True).get(pk=principle.pk)


def _set_status(
    principle: Principle, status: str, *, action: str, actor: User, reason: str
) -> Principle:
    """Sets a locked principle's status and logs the moderation action."""
    principle.status = status
    principle.save(update_fields=["status", "updated_at"])
    _log(
        workshop_id=principle.workshop_id,
        action=action,
        principle=principle,
        actor=actor,
        reason=reason,
    )
    return principle


@transaction.atomic
def principle_approve(
    *, principle: Principle, actor: User, reason: str = ""
) -> Principle:
    principle = _lock(principle)
    if principle.merged_into_id is not None:
        raise ApplicationError(
            gettext(
                "A merged principle cannot be approved; "
                "approve the one it was merged into."
            )
        )
    return _set_status(
        principle,
        Principle.Status.APPROVED,
        action=ModerationEvent.Action.APPROVE,
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def principle_reject(*, principle: Principle, actor: User, reason: str) -> Principle:
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            gettext("Say why the principle is rejected; the reason is logged.")
        )
    return _set_status(
        _lock(principle),
        Principle.Status.REJECTED,
        action=ModerationEvent.Action.REJECT,
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def principle_merge(
    *, source: Principle, target: Principle, actor: User, reason: str = ""
) -> Principle:
    """Folds a duplicate into another principle. The source keeps its votes, so every
    vote stays traceable to the wording it was cast on; the source leaves the agenda."""
    source, target = _lock(source), _lock(target)
    if source.pk == target.pk:
        raise ApplicationError(gettext("A principle cannot be merged into itself."))
    if source.workshop_id != target.workshop_id:
        raise ApplicationError(
            gettext("Both principles must belong to the same workshop.")
        )
    if target.merged_into_id is not None:
        raise ApplicationError(
            gettext("That principle was itself merged; merge into its target instead.")
        )
    if target.status == Principle.Status.REJECTED:
        raise ApplicationError(
            gettext("Merge into an approved or pending principle, not a rejected one.")
        )
    # Principles already merged into the source now point at the target: no chains.
    Principle.objects.filter(merged_into=source).update(merged_into=target)
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    _log(
        workshop_id=source.workshop_id,
        action=ModerationEvent.Action.MERGE,
        principle=source,
        actor=actor,
        reason=reason,
        data={"into": target.pk, "into_text": target.text},
    )
    return target


@transaction.atomic
def principle_edit(
    *, principle: Principle, text: str, actor: User, reason: str = ""
) -> Principle:
    """Rewords a principle as a new version; earlier wordings and their votes remain."""
    text = _clean_text(text)
    principle = _lock(principle)
    if normalize_text(text) == normalize_text(principle.text):
        raise ApplicationError(
            gettext("The new wording is the same as the current one.")
        )
    last = principle.versions.order_by("-number").first()
    number = (last.number if last else 0) + 1
    PrincipleVersion.objects.create(
        principle=principle,
        number=number,
        text=text,
        edited_by=actor,
        reason=reason,
        created_at=timezone.now(),
    )
    previous = principle.text
    principle.text = text
    principle.save(update_fields=["text", "updated_at"])
    _log(
        workshop_id=principle.workshop_id,
        action=ModerationEvent.Action.EDIT,
        principle=principle,
        actor=actor,
        reason=reason,
        data={"version": number, "from": previous, "to": text},
    )
    return principle
