"""Generated comparison sets: a provider writes contrasting responses.

Generation: for each (principle version x prompt) a provider writes two responses,
one written to follow the principle and one written to ignore it, and the pair
becomes an item. Each response is stored with the model that wrote it
(``provider:model``), the exact messages sent (``generation_prompt``, JSON), its
stance (``label``: "follows" / "ignores") and its tokens, latency and cost.

Idempotent and resumable, like judge runs (services/runs.py): one Celery task at a
time holds a PostgreSQL advisory lock on the set; each response is stored in its
own transaction under the unique (prompt, principle version, stance), and the
missing ones are computed from what is stored, so a crash or a re-run writes only
the responses that are missing and never pays twice for one already stored. Items
are made from complete pairs after the responses, idempotently (their external id
is the pair's), so a crash between the two loses nothing either. Every call (and
retry) takes a slot of the provider's requests-per-minute budget, shared with judge
runs (``services.throttle``).

Which response is A is decided by a seeded RNG stored with the set, balanced so
that half the pairs show the "follows" response first: the same set always gets the
same placement, and position bias cannot pass for agreement.

The prompt templates, and how other people's text is delimited in them, are in
``workbench.judging.generation_prompts``.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext

from workbench.accounts.models import User
from workbench.core.errors import ApplicationError
from workbench.core.locks import advisory_lock
from workbench.core.work_queue import work_through
from workbench.deliberation.models import PrincipleVersion, Workshop
from workbench.judging.generation_prompts import (
    FOLLOWS,
    GENERATION_PROMPT_ID,
    GENERATION_PROMPT_VERSION,
    IGNORES,
    MAX_TOKENS,
    STANCES,
    generation_prompt_text,
    render_generation,
)
from workbench.judging.llm import (
    DEFAULT_MODELS,
    LLM_PROVIDERS,
    Generation,
    GenerationRequest,
    JudgeConfigurationError,
    RetryPolicy,
    TextGenerator,
    available_providers,
    base_url_env_name,
    build_generator,
)
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    GenerationStatus,
    Prompt,
    Response,
)
from workbench.judging.services.throttle import (
    Throttle,
    WaitStoppedError,
    judge_throttle,
    retry_wait,
)

logger = logging.getLogger("workbench.judging.generate")

SOURCE: Final = "generated"
MAX_PROMPTS: Final = 50
MAX_PROMPT_LENGTH: Final = 4000
MAX_PRINCIPLE_VERSIONS: Final = 20
MAX_RESPONSES: Final = 1000
DEFAULT_CONCURRENCY: Final = 8
DEFAULT_BUDGET_S: Final = 240.0
_LOCK_NAMESPACE: Final = 0x47454E53  # "GENS": the advisory lock's first key
CANCEL_CHECK_S: Final = 0.25
# A failure after every retry means the provider is down or refuses us: stop and
# let the facilitator resume. An empty answer is about one prompt: carry on.
_CONTINUE_AFTER: Final = frozenset({"unparseable"})


# --- start ------------------------------------------------------------------------


def comparison_set_generate(
    *,
    workshop: Workshop,
    name: str,
    prompts: Sequence[str],
    principle_versions: Sequence[PrincipleVersion],
    provider: str,
    model: str | None = None,
    actor: User | None,
    seed: int | None = None,
    base_url_env: str | None = None,
    enqueue: bool = True,
) -> ComparisonSet:
    """Creates a generated comparison set (its prompts, no responses yet) and
    enqueues the task that writes the responses after the transaction commits
    (``enqueue=False``: the caller executes it). ``base_url_env`` names the
    variable holding an OpenAI-compatible server's URL (default: the first of
    ``BASE_URL_ENV_NAMES`` that is set here). Raises ApplicationError for bad input
    or a provider this process cannot use."""
    set_name = _clean_name(name)
    texts = _clean_prompts(prompts)
    versions = _clean_versions(workshop, principle_versions)
    needed = len(STANCES) * len(texts) * len(versions)
    if needed > MAX_RESPONSES:
        raise ApplicationError(
            gettext(
                "That would write %(needed)s responses (%(principles)s principles x "
                "%(prompts)s prompts x 2); the limit is %(limit)s. Use fewer "
                "prompts or principles."
            )
            % {
                "needed": needed,
                "principles": len(versions),
                "prompts": len(texts),
                "limit": MAX_RESPONSES,
            }
        )
    spec = _spec(provider, model, base_url_env, seed, versions)
    with transaction.atomic():
        locked = Workshop.objects.select_for_update(no_key=True).get(pk=workshop.pk)
        if ComparisonSet.objects.filter(workshop=locked, name=set_name).exists():
            raise ApplicationError(
                gettext(
                    "Workshop “%(slug)s” already has a comparison set called "
                    "“%(name)s”; choose another name."
                )
                % {"slug": locked.slug, "name": set_name}
            )
        comparison_set = ComparisonSet.objects.create(
            workshop=locked,
            name=set_name,
            source=SOURCE,
            format=GENERATION_PROMPT_VERSION,
            created_by=actor,
            generation=spec,
            generation_status=GenerationStatus.PENDING,
        )
        Prompt.objects.bulk_create(
            Prompt(comparison_set=comparison_set, external_id=str(n), text=text)
            for n, text in enumerate(texts, start=1)
        )
        if enqueue:
            _enqueue_on_commit(comparison_set.pk)
    return comparison_set


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ApplicationError(gettext("Give the comparison set a name."))
    if len(cleaned) > 200:
        raise ApplicationError(gettext("The name is longer than 200 characters."))
    return cleaned


def _clean_prompts(prompts: Sequence[str]) -> list[str]:
    texts = [(p or "").strip() for p in prompts]
    if not texts:
        raise ApplicationError(gettext("Give at least one prompt."))
    if len(texts) > MAX_PROMPTS:
        raise ApplicationError(
            gettext("%(count)s prompts is more than the limit of %(limit)s.")
            % {"count": len(texts), "limit": MAX_PROMPTS}
        )
    seen: dict[str, int] = {}
    for n, text in enumerate(texts, start=1):
        if not text:
            raise ApplicationError(gettext("Prompt %(n)s is empty.") % {"n": n})
        if len(text) > MAX_PROMPT_LENGTH:
            raise ApplicationError(
                gettext("Prompt %(n)s is longer than %(limit)s characters.")
                % {"n": n, "limit": MAX_PROMPT_LENGTH}
            )
        if text in seen:
            raise ApplicationError(
                gettext("Prompt %(n)s repeats prompt %(first)s.")
                % {"n": n, "first": seen[text]}
            )
        seen[text] = n
    return texts


def _clean_versions(
    workshop: Workshop, principle_versions: Sequence[PrincipleVersion]
) -> list[PrincipleVersion]:
    versions = list({v.pk: v for v in principle_versions}.values())
    if not versions:
        raise ApplicationError(gettext("Choose at least one principle."))
    if len(versions) > MAX_PRINCIPLE_VERSIONS:
        raise ApplicationError(
            gettext("%(count)s principles is more than the limit of %(limit)s.")
            % {"count": len(versions), "limit": MAX_PRINCIPLE_VERSIONS}
        )
    found = {
        v.pk: v
        for v in PrincipleVersion.objects.filter(
            pk__in=[v.pk for v in versions]
        ).select_related("principle")
    }
    for version in versions:
        stored = found.get(version.pk)
        if stored is None or stored.principle.workshop_id != workshop.pk:
            raise ApplicationError(
                gettext("Principle version %(id)s is not part of “%(slug)s”.")
                % {"id": version.pk, "slug": workshop.slug}
            )
        if not stored.principle.is_votable:
            raise ApplicationError(
                gettext(
                    "“%(text)s” is not an accepted principle "
                    "(pending, rejected or merged)."
                )
                % {"text": stored.principle.text[:80]}
            )
    return [found[v.pk] for v in versions]


def _spec(
    provider: str,
    model: str | None,
    base_url_env: str | None,
    seed: int | None,
    versions: list[PrincipleVersion],
) -> dict[str, Any]:
    if provider not in LLM_PROVIDERS:
        raise ApplicationError(
            gettext(
                "Responses can be written by an LLM provider only (%(providers)s); "
                "the offline baseline cannot write."
            )
            % {"providers": ", ".join(LLM_PROVIDERS)}
        )
    reason = available_providers().get(provider)
    if reason is not None:
        raise ApplicationError(
            gettext("The %(provider)s provider is not available: %(reason)s.")
            % {"provider": provider, "reason": reason}
        )
    model = (model or "").strip() or DEFAULT_MODELS.get(provider, "")
    if not model:
        raise ApplicationError(
            gettext("The %(provider)s provider needs a model name.")
            % {"provider": provider}
        )
    if base_url_env is None:
        base_url_env = base_url_env_name() if provider == "openai-compatible" else ""
    return {
        "provider": provider,
        "model": model,
        "base_url_env_name": base_url_env,  # a variable's name, never a URL or key
        "principle_versions": [v.pk for v in versions],
        "prompt_id": GENERATION_PROMPT_ID,
        "max_tokens": MAX_TOKENS,
        "seed": secrets.randbelow(2**31) if seed is None else seed,
    }


def _enqueue_on_commit(set_id: int) -> None:
    from workbench.judging.tasks import (  # noqa: PLC0415 (cycle)
        comparison_set_generate_task,
    )

    transaction.on_commit(lambda: comparison_set_generate_task.delay(set_id))


# --- resume, fail, progress ---------------------------------------------------------


def comparison_set_generation_resume(
    *, comparison_set: ComparisonSet, enqueue: bool = True
) -> bool:
    """Puts a failed or stalled generation back to pending and enqueues it: only
    the missing responses are written. Returns False when there is nothing to
    resume (not generated, or done)."""
    with transaction.atomic():
        updated = ComparisonSet.objects.filter(
            pk=comparison_set.pk,
            generation_status__in=[
                GenerationStatus.PENDING,
                GenerationStatus.RUNNING,
                GenerationStatus.FAILED,
            ],
        ).update(generation_status=GenerationStatus.PENDING, generation_error="")
        if updated and enqueue:
            _enqueue_on_commit(comparison_set.pk)
    comparison_set.refresh_from_db()
    return bool(updated)


def comparison_set_generation_fail(*, comparison_set_id: int, error: str) -> None:
    """Marks a generation that has not ended as failed (the task's exceptions)."""
    ComparisonSet.objects.filter(
        pk=comparison_set_id,
        generation_status__in=[GenerationStatus.PENDING, GenerationStatus.RUNNING],
    ).update(generation_status=GenerationStatus.FAILED, generation_error=error[:2000])


def comparison_set_generation_progress(
    *, comparison_set: ComparisonSet
) -> dict[str, Any]:
    """Responses written / needed, tokens and cost, read fresh from the database."""
    row = (
        ComparisonSet.objects.filter(pk=comparison_set.pk)
        .values("generation", "generation_status", "generation_error")
        .get()
    )
    spec = row["generation"] or {}
    prompts = Prompt.objects.filter(comparison_set_id=comparison_set.pk).count()
    needed = len(STANCES) * prompts * len(spec.get("principle_versions", []))
    infos = list(
        Response.objects.filter(
            prompt__comparison_set_id=comparison_set.pk,
            principle_version__isnull=False,
        ).values_list("generation_info", flat=True)
    )
    made = len(infos)
    status = row["generation_status"]
    return {
        "status": status,
        "made": made,
        "needed": needed,
        "items": ComparisonItem.objects.filter(
            comparison_set_id=comparison_set.pk
        ).count(),
        "percent": round(100.0 * made / needed, 1) if needed else 100.0,
        "finished": status in {GenerationStatus.DONE, GenerationStatus.FAILED},
        "error": row["generation_error"],
        "input_tokens": sum(int(i.get("input_tokens") or 0) for i in infos),
        "output_tokens": sum(int(i.get("output_tokens") or 0) for i in infos),
        "cost": sum(float(i.get("cost_usd") or 0.0) for i in infos),
        "provider": spec.get("provider", ""),
        "model": spec.get("model", ""),
    }


# --- execution ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Unit:
    version_id: int
    prompt_id: int
    stance: str
    position: int
    request: GenerationRequest


@dataclass
class _Outcome:
    """Failures seen by this execution (shared by the pool's threads)."""

    failures: Counter[str] = field(default_factory=Counter)
    last_error: str = ""
    stopped: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, generation: Generation) -> None:
        kind = generation.error_kind or "other"
        with self.lock:
            self.failures[kind] += 1
            self.last_error = f"{kind}: {generation.error_message}"
            if kind not in _CONTINUE_AFTER:
                self.stopped = True


def comparison_set_generation_execute(
    *,
    comparison_set_id: int,
    concurrency: int | None = None,
    budget_s: float | None = None,
    progress: Callable[[], None] | None = None,
    reenqueue: bool = True,
) -> bool:
    """Writes the set's missing responses, then makes the items of complete pairs.
    Returns True when the generation has ended (or was not this call's to do), False
    when ``budget_s`` ran out first (and, with ``reenqueue``, a task continues)."""
    claimed = ComparisonSet.objects.filter(
        pk=comparison_set_id,
        generation_status__in=[GenerationStatus.PENDING, GenerationStatus.RUNNING],
    ).update(generation_status=GenerationStatus.RUNNING)
    if not claimed:
        return True
    with advisory_lock(_LOCK_NAMESPACE, comparison_set_id) as locked:
        if not locked:
            logger.info("set %s is being generated by another task", comparison_set_id)
            return True
        comparison_set = ComparisonSet.objects.get(pk=comparison_set_id)
        spec = comparison_set.generation
        throttle = judge_throttle(provider=spec["provider"])
        outcome = _Outcome()
        deadline = None if budget_s is None else time.monotonic() + budget_s
        gate = _Gate(comparison_set_id, deadline, outcome)
        try:
            generator = _generator_for(spec, sleep=_retry_sleep(throttle, gate))
        except JudgeConfigurationError as err:
            comparison_set_generation_fail(
                comparison_set_id=comparison_set_id, error=str(err)
            )
            return True
        units = _missing_units(comparison_set, spec)

        def call(request: GenerationRequest) -> Generation | None:
            """None when the generation stopped before the response was had."""
            if (
                throttle is not None
                and throttle.acquire(should_stop=gate.should_stop) is None
            ):
                return None
            try:
                return generator.generate(request)
            except WaitStoppedError:  # the wait between attempts (retry_wait)
                return None

        workers = _concurrency(spec, concurrency)
        if progress is not None:
            progress()
        work_through(
            units,
            lambda unit: _write(call, unit, spec, outcome),
            workers=workers,
            should_stop=gate.should_stop,
            progress=progress,
            thread_name="generate",
        )
        if gate.ended:
            return True  # marked failed or deleted meanwhile: nothing more to do
        _make_items(comparison_set, spec)
        return _finish_or_continue(comparison_set_id, spec, outcome, reenqueue)


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _concurrency(spec: dict[str, Any], requested: int | None) -> int:
    if connection.vendor == "sqlite":
        return 1  # SQLite wants one writer
    if requested is not None:
        return max(1, requested)
    per_provider = getattr(settings, "JUDGE_CONCURRENCY", {})
    if isinstance(per_provider, dict):
        return max(1, int(per_provider.get(spec["provider"], DEFAULT_CONCURRENCY)))
    return max(1, int(per_provider))


class _Gate:
    """Tells the pool to stop: a failure that ends the generation (seen by any
    thread), the task's time budget, or the set no longer being generated (marked
    failed, or deleted). The database is read at most every CANCEL_CHECK_S."""

    def __init__(self, set_id: int, deadline: float | None, outcome: _Outcome) -> None:
        self.set_id = set_id
        self.deadline = deadline
        self.outcome = outcome
        self.ended = False
        self._checked = 0.0
        self._lock = threading.Lock()

    def should_stop(self) -> bool:
        if self.ended or self.outcome.stopped or _past(self.deadline):
            return True
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= CANCEL_CHECK_S:
                self._checked = now
                status = (
                    ComparisonSet.objects.filter(pk=self.set_id)
                    .values_list("generation_status", flat=True)
                    .first()
                )
                self.ended = status not in {
                    GenerationStatus.PENDING,
                    GenerationStatus.RUNNING,
                }
        return self.ended


def _retry_sleep(throttle: Throttle | None, gate: _Gate) -> Callable[[float], None]:
    return retry_wait(throttle, gate.should_stop, check_every=CANCEL_CHECK_S)


def _generator_for(
    spec: dict[str, Any], *, sleep: Callable[[float], None] | None = None
) -> TextGenerator:
    """Keys and base URLs come from this process's environment, never the database."""
    base_url = None
    env_name = spec.get("base_url_env_name") or ""
    if env_name:
        base_url = os.environ.get(env_name)
        if not base_url:
            raise JudgeConfigurationError(f"{env_name} is not set (the base URL)")
    retry = getattr(settings, "JUDGE_RETRY", None)
    return build_generator(
        spec["provider"],
        model=spec["model"],
        base_url=base_url,
        retry=RetryPolicy(**retry) if retry else None,
        sleep=sleep,
    )


def _pairs(
    comparison_set: ComparisonSet, spec: dict[str, Any]
) -> list[tuple[int, int]]:
    """Every (version id, prompt id), in the spec's order then the prompts'."""
    prompt_ids = list(
        Prompt.objects.filter(comparison_set=comparison_set)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    return [(v, p) for v in spec["principle_versions"] for p in prompt_ids]


def _follows_is_a(
    pairs: list[tuple[int, int]], seed: int
) -> dict[tuple[int, int], bool]:
    """Half the pairs (rounded up) show the "follows" response as A, the seeded RNG
    decides which: the same set always gets the same placement."""
    flags = [n % 2 == 0 for n in range(len(pairs))]
    random.Random(seed).shuffle(flags)  # noqa: S311 - placement, not security
    return dict(zip(pairs, flags, strict=True))


def _missing_units(comparison_set: ComparisonSet, spec: dict[str, Any]) -> list[_Unit]:
    pairs = _pairs(comparison_set, spec)
    placement = _follows_is_a(pairs, int(spec["seed"]))
    stored = set(
        Response.objects.filter(
            prompt__comparison_set=comparison_set, principle_version__isnull=False
        ).values_list("principle_version_id", "prompt_id", "label")
    )
    versions = dict(
        PrincipleVersion.objects.filter(pk__in=spec["principle_versions"]).values_list(
            "pk", "text"
        )
    )
    prompts = dict(comparison_set.prompts.values_list("pk", "text"))
    order = {v: n for n, v in enumerate(spec["principle_versions"])}
    units = []
    for version_id, prompt_id in pairs:
        for stance in STANCES:
            if (version_id, prompt_id, stance) in stored:
                continue
            first = (stance == FOLLOWS) == placement[version_id, prompt_id]
            units.append(
                _Unit(
                    version_id=version_id,
                    prompt_id=prompt_id,
                    stance=stance,
                    position=2 * order[version_id] + (0 if first else 1),
                    request=render_generation(
                        principle=versions[version_id],
                        conversation=prompts[prompt_id],
                        stance=stance,
                    ),
                )
            )
    return units


def _write(
    call: Callable[[GenerationRequest], Generation | None],
    unit: _Unit,
    spec: dict[str, Any],
    outcome: _Outcome,
) -> None:
    generation = call(unit.request)
    if generation is None:
        return  # stopped while waiting: a later task writes it
    if generation.ok:
        _store(unit, generation, spec)
    else:
        outcome.record(generation)


def _store(unit: _Unit, generation: Generation, spec: dict[str, Any]) -> None:
    """One response, in its own transaction; a duplicate (another task stored the
    same stance meanwhile) is not stored: ``get_or_create`` returns the stored one."""
    info = {
        "prompt_id": spec["prompt_id"],
        "input_tokens": generation.input_tokens,
        "output_tokens": generation.output_tokens,
        "latency_ms": round(generation.latency_s * 1000),
        "cost_usd": generation.cost_usd,
        "truncated": generation.truncated,
        "attempts": [a.outcome for a in generation.attempts],
    }
    with transaction.atomic():
        Response.objects.get_or_create(
            prompt_id=unit.prompt_id,
            principle_version_id=unit.version_id,
            label=unit.stance,
            defaults={
                "text": generation.text,
                "position": unit.position,
                "generated_by": f"{generation.provider}:{generation.model}"[:200],
                "generation_prompt": generation_prompt_text(unit.request),
                "generation_info": info,
            },
        )


def _make_items(comparison_set: ComparisonSet, spec: dict[str, Any]) -> None:
    """An item for every pair whose two responses are stored (idempotent: the
    item's external id names the pair)."""
    placement = _follows_is_a(_pairs(comparison_set, spec), int(spec["seed"]))
    responses: dict[tuple[int, int, str], int] = {
        (version_id, prompt_id, label): pk
        for pk, version_id, prompt_id, label in Response.objects.filter(
            prompt__comparison_set=comparison_set, principle_version__isnull=False
        ).values_list("pk", "principle_version_id", "prompt_id", "label")
    }
    items = []
    for (version_id, prompt_id), follows_first in placement.items():
        follows = responses.get((version_id, prompt_id, FOLLOWS))
        ignores = responses.get((version_id, prompt_id, IGNORES))
        if follows is None or ignores is None:
            continue
        a, b = (follows, ignores) if follows_first else (ignores, follows)
        items.append(
            ComparisonItem(
                comparison_set=comparison_set,
                principle_version_id=version_id,
                prompt_id=prompt_id,
                response_a_id=a,
                response_b_id=b,
                external_id=f"v{version_id}-p{prompt_id}",
            )
        )
    ComparisonItem.objects.bulk_create(items, ignore_conflicts=True)


def _finish_or_continue(
    set_id: int, spec: dict[str, Any], outcome: _Outcome, reenqueue: bool
) -> bool:
    comparison_set = ComparisonSet.objects.get(pk=set_id)
    missing = len(_missing_units(comparison_set, spec))
    running = Q(pk=set_id, generation_status=GenerationStatus.RUNNING)
    if missing == 0:
        ComparisonSet.objects.filter(running).update(
            generation_status=GenerationStatus.DONE, generation_error=""
        )
        return True
    if outcome.failures:
        kinds = ", ".join(f"{n} {kind}" for kind, n in outcome.failures.most_common())
        ComparisonSet.objects.filter(running).update(
            generation_status=GenerationStatus.FAILED,
            generation_error=(
                f"{missing} responses are still missing ({kinds}; last: "
                f"{outcome.last_error}). The others are stored; resume to write "
                "only the missing ones."
            )[:2000],
        )
        return True
    if reenqueue:
        with transaction.atomic():
            _enqueue_on_commit(set_id)
    return False


__all__ = [
    "FOLLOWS",
    "GENERATION_PROMPT_ID",
    "IGNORES",
    "comparison_set_generate",
    "comparison_set_generation_execute",
    "comparison_set_generation_fail",
    "comparison_set_generation_progress",
    "comparison_set_generation_resume",
]
