"""A real Celery worker SIGKILLed in the middle of a value-card PDF render
(issue 7): nothing partial is served, no forked layout process outlives it, and
the task, redelivered to a fresh worker, renders the whole PDF.

The render lays the document out in forked children (core/forking.py), so the
kill lands while the worker has children, as the kernel's OOM killer would
strike: the one process, not its group. The children must die with it rather
than lay out pages nobody will read; the test watches them by pid.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pypdf
import pytest
from django.urls import reverse

from tests.worker import worker_factory  # noqa: F401 - the fixture, used by name
from workbench.deliberation.services.analysis import analysis_refresh
from workbench.deliberation.services.principles import principle_seed

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PRINCIPLES = 24  # cards: enough to be laid out in parts (forked), a few seconds
VISIBILITY_TIMEOUT = 3.0  # the fresh worker's, so the redelivery comes soon
READY = "The PDF is ready."


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_worker_killed_mid_render_serves_nothing_partial_and_the_redelivery_renders(
    worker_factory,  # noqa: F811
    owner,
    owner_client,
    setup,
    settings,
    tmp_path: Path,
    monkeypatch,
):
    # The workers are other processes: all must see the same media folder.
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    monkeypatch.setenv("CARDS_PDF_PROCESSES", "2")
    texts = [p.text for p in setup.seeds] + [
        principle_seed(
            workshop=setup.workshop,
            text=f"Choose the response that keeps promise number {n}.",
            actor=owner,
        ).text
        for n in range(PRINCIPLES - len(setup.seeds))
    ]
    # The seeds scheduled an analysis (3 s debounce). Done now, it is current
    # when the worker gets to that task, which then changes nothing: otherwise,
    # on a slow machine the worker ran it before the render, the cards changed,
    # and the PDF asked for was no longer the one being rendered.
    analysis_refresh(workshop=setup.workshop)
    url = reverse("cards:cards-pdf", args=[setup.workshop.slug])
    folder = tmp_path / "cards" / str(setup.workshop.pk)

    first = worker_factory()
    asked = time.monotonic()
    assert owner_client.get(url)["Content-Type"].startswith("text/html")
    (pending,) = folder.glob("*.pending")
    key = pending.name.split(".")[0]
    # In the middle of the layout: the worker has forked its parts.
    wait_until(lambda: children(first.process.pid), 60, "the forked layout")
    forked = children(first.process.pid)
    assert pending.read_text() == "Rendering the PDF"

    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    killed = time.monotonic()
    # Its layout processes die with it: nothing left running for a dead render.
    wait_until(lambda: not any(alive(pid) for pid in forked), 2, "orphans to die")
    orphans_gone = time.monotonic() - killed

    # Stuck, and nothing served: no PDF, no marker, the progress page instead.
    assert not (folder / f"{key}.ready").exists()
    assert not (folder / f"{key}.pdf").exists()
    assert pending.exists()  # its `finally` never ran
    # A kill during the write would leave part of the file behind; the view
    # serves a PDF only once the marker written after it exists.
    (folder / f"{key}.pdf").write_bytes(b"%PDF-1.7\n% cut short by the kill\n")
    stuck = owner_client.get(url)
    assert stuck.status_code == 200
    assert stuck["Content-Type"].startswith("text/html")
    assert b"%PDF" not in stuck.content
    poll = owner_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert READY not in poll and "Rendering the PDF" in poll

    # No one presses anything: the broker gives the unacknowledged task back
    # once it is older than the (shortened) visibility timeout.
    second = worker_factory(visibility_timeout=VISIBILITY_TIMEOUT)
    second_ready = time.monotonic()

    def ready() -> bool:
        page = owner_client.get(url, headers={"HX-Request": "true"})
        return READY in page.content.decode()

    wait_until(ready, 60, f"the redelivered render\n{second.output[-3000:]}")
    done = time.monotonic()
    # The fresh worker ran the dead one's task, once, to the end.
    task = r"Task workbench\.cards\.tasks\.cards_pdf_render_task\[[^\]]+\]"
    assert len(re.findall(task + " received", second.output)) == 1
    assert len(re.findall(task + " succeeded", second.output)) == 1

    download = owner_client.get(url)
    assert download["Content-Type"] == "application/pdf"
    pdf = b"".join(download.streaming_content)
    assert hashlib.sha256(pdf).hexdigest() == (folder / f"{key}.ready").read_text()
    reader = pypdf.PdfReader(BytesIO(pdf))
    pages = len(reader.pages)
    # Cover, contents, a page or more per card, the appendix.
    assert pages >= PRINCIPLES + 3
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert all(principle in text for principle in texts)
    assert f"{pages} / {pages}" in text  # the last page's footer
    assert sorted(p.name.split(".", 1)[1] for p in folder.iterdir()) == [
        "pdf",
        "ready",
    ]
    print("\n".join(line for line in second.output.splitlines() if "Task " in line))
    print(
        f"\nPDF worker kill: {PRINCIPLES} cards, {pages} pages; killed "
        f"{killed - asked:.1f} s after the request with {len(forked)} forked "
        f"layout process(es); they were gone {orphans_gone:.2f} s after the kill; "
        f"a fresh worker was ready {second_ready - killed:.1f} s after the kill "
        f"and the PDF {done - second_ready:.1f} s after that (visibility timeout "
        f"{VISIBILITY_TIMEOUT:.0f} s, then the render)"
    )
