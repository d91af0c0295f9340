"""The value-card PDF of a workshop, rendered once per content and kept.

A PDF is keyed by what it shows: the SHA-256 of the cards without their build
time. It lives in Django's default storage (MEDIA_ROOT, or a shared bucket when
the web processes and workers run on several machines) as
``cards/<workshop id>/<key>.pdf``; beside it ``<key>.pending`` marks a render
under way (its text is the stage) and ``<key>.failed`` holds the error. No model
is needed: the files are the state, and any process can read them.

A PDF counts as ready only once ``<key>.ready`` (its SHA-256) is written after
it: a worker killed while writing the PDF leaves no marker, so the partial file
is never served and the next request renders it again. When a render succeeds,
the workshop's older PDFs (of content that has since changed) are deleted.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from workbench.cards.render.pdf import cards_pdf
from workbench.cards.services.build import cards_for_workshop
from workbench.deliberation.models import Workshop

# Bumped when the PDF layout changes, so older files stop counting as fresh.
RENDERER_VERSION = "2"
# A marker older than this is a render whose worker died: it is started again.
STALE_PENDING_S = 15 * 60


@dataclass(frozen=True)
class PdfState:
    status: str  # "ready" | "pending" | "failed" | "missing"
    key: str
    stage: str = ""
    error: str = ""

    @property
    def finished(self) -> bool:
        return self.status in {"ready", "failed"}


def cards_pdf_key(*, cards: list[dict[str, Any]], language: str) -> str:
    """What the PDF shows: the cards (without their build time) and the language
    of its headings."""
    stable = [{k: v for k, v in card.items() if k != "built_at"} for card in cards]
    text = json.dumps([RENDERER_VERSION, language, stable], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _path(workshop_id: int, key: str, ext: str) -> str:
    return f"cards/{workshop_id}/{key}.{ext}"


def _read(path: str) -> str:
    with default_storage.open(path, "rb") as handle:
        return bytes(handle.read()).decode(errors="replace")


def _write(path: str, data: bytes) -> None:
    # Storage never overwrites (it renames instead): delete first.
    default_storage.delete(path)
    default_storage.save(path, ContentFile(data))


def _ready(workshop_id: int, key: str) -> bool:
    return default_storage.exists(_path(workshop_id, key, "ready"))


def cards_pdf_state(*, workshop: Workshop, key: str) -> PdfState:
    if _ready(workshop.pk, key):
        return PdfState("ready", key)
    pending = _path(workshop.pk, key, "pending")
    if default_storage.exists(pending):
        age = time.time() - default_storage.get_modified_time(pending).timestamp()
        if age < STALE_PENDING_S:
            return PdfState("pending", key, stage=_read(pending))
    failed = _path(workshop.pk, key, "failed")
    if default_storage.exists(failed):
        return PdfState("failed", key, error=_read(failed))
    return PdfState("missing", key)


def cards_pdf_request(*, workshop: Workshop) -> PdfState:
    """The state of the PDF of the workshop's current cards; starts a render
    (after the transaction commits) unless it is ready or under way. Requesting
    again is harmless: a render under way is not started twice, and a failed one
    is retried."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    key = cards_pdf_key(cards=cards_for_workshop(workshop=workshop), language=language)
    state = cards_pdf_state(workshop=workshop, key=key)
    if state.status in {"ready", "pending"}:
        return state
    # Imported here: the tasks module imports this one.
    from workbench.cards.tasks import cards_pdf_render_task  # noqa: PLC0415

    default_storage.delete(_path(workshop.pk, key, "failed"))
    _write(_path(workshop.pk, key, "pending"), _("Waiting for a worker").encode())
    # The worker renders in the language the PDF was asked for in: the cards'
    # labels and the document's headings are translated.
    transaction.on_commit(
        lambda: cards_pdf_render_task.delay(
            workshop_id=workshop.pk, key=key, language=language
        )
    )
    return PdfState("pending", key, stage=_("Waiting for a worker"))


def cards_pdf_render(*, workshop_id: int, key: str, language: str = "") -> str:
    """Builds the workshop's cards and stores their PDF, in ``language`` (the
    default language if empty); returns its key, which differs from ``key``
    when the records changed since the render was asked for (the requested
    marker is cleared either way)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return _render(workshop_id, key, language or settings.LANGUAGE_CODE)


def _render(workshop_id: int, key: str, language: str) -> str:
    workshop = Workshop.objects.get(pk=workshop_id)
    try:
        _write(_path(workshop_id, key, "pending"), _("Building the cards").encode())
        cards = cards_for_workshop(workshop=workshop)
        current = cards_pdf_key(cards=cards, language=language)
        if not _ready(workshop_id, current):
            _write(_path(workshop_id, key, "pending"), _("Rendering the PDF").encode())
            pdf = cards_pdf(cards, title=workshop.title)
            _write(_path(workshop_id, current, "pdf"), pdf)
            digest = hashlib.sha256(pdf).hexdigest()
            _write(_path(workshop_id, current, "ready"), digest.encode())
            _prune(workshop_id, keep=current)
    except Exception as exc:
        _write(
            _path(workshop_id, key, "failed"), f"{type(exc).__name__}: {exc}".encode()
        )
        raise
    finally:
        default_storage.delete(_path(workshop_id, key, "pending"))
    return current


def _prune(workshop_id: int, *, keep: str) -> None:
    """Deletes the workshop's finished files of other content (renders under
    way keep their markers). A download already reading an old file finishes:
    open files outlive their deletion."""
    folder = f"cards/{workshop_id}"
    try:
        _, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        key, _dot, ext = name.partition(".")
        if key != keep and ext in {"pdf", "ready", "failed"}:
            default_storage.delete(f"{folder}/{name}")


def cards_pdf_open(*, workshop: Workshop, key: str) -> Any:
    return default_storage.open(_path(workshop.pk, key, "pdf"), "rb")
