"""Benchmark: the value-card PDF of a constitution with 50 principles and 8
groups (charts and non-Latin group names included), through `cards_pdf`.
Target: under 5 s.

Each measurement runs in a fresh process (so ru_maxrss is this render's peak,
not a previous one's): a timed pass after a warm-up render (fonts and caches, as
in a long-lived worker), then a separate pass under tracemalloc (which slows
rendering down, so it never shares a pass with the timing). The document is
laid out in parts by forked processes (``--processes``, default one per CPU,
as ``cards_pdf`` does) and, for comparison, in one process; peak RSS is given
for the calling process and for the largest forked child.

    DEBUG=1 .venv/bin/python scripts/bench_cards_pdf.py [--principles 50] [--groups 8]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from io import BytesIO
from pathlib import Path
from typing import Any


def _render(
    principles: int, groups: int, processes: int, *, trace: bool
) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    os.environ.setdefault("DEBUG", "1")
    import logging

    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    import pypdf

    from workbench.cards.render.pdf import cards_pdf
    from workbench.cards.render.pdf_sample import (
        sample_constitution_cards,
    )

    cards = sample_constitution_cards(principles=principles, groups=groups)
    # Warm up the path that is measured (fonts, caches, the page-number font of
    # the parallel path), as a long-lived worker is after its first render.
    cards_pdf(cards[:9], title="warm-up", processes=processes)
    if trace:
        tracemalloc.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cpu = time.process_time()
    pdf = cards_pdf(cards, title="Benchmark constitution", processes=processes)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    children_cpu = (children.ru_utime + children.ru_stime) - (
        before.ru_utime + before.ru_stime
    )
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    return {
        "cards": len(cards),
        "pages": len(pypdf.PdfReader(BytesIO(pdf)).pages),
        "bytes": len(pdf),
        "wall": wall,
        "cpu": cpu + children_cpu,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_maxrss_mb": children.ru_maxrss / 1024,
        "tracemalloc_mb": peak / 1e6 if peak is not None else None,
    }


def _child(args: argparse.Namespace, processes: int, *, trace: bool) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        "--principles",
        str(args.principles),
        "--processes",
        str(processes),
    ]
    command += ["--groups", str(args.groups)] + (["--trace"] if trace else [])
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--principles", type=int, default=50)
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = _render(args.principles, args.groups, args.processes, trace=args.trace)
        print(json.dumps(result))
        return
    for processes in dict.fromkeys((args.processes, 1)):
        _report(args, processes)


def _report(args: argparse.Namespace, processes: int) -> None:
    runs = [_child(args, processes, trace=False) for _ in range(args.repeat)]
    traced = _child(args, processes, trace=True)
    best = min(runs, key=lambda r: r["wall"])
    how = f"{processes} processes" if processes > 1 else "one process"
    print(
        f"cards_pdf, {how}: {best['cards']} cards ({args.principles} principles, "
        f"{args.groups} groups), {best['pages']} pages, {best['bytes'] / 1e6:.1f} MB"
    )
    verdict = "met" if best["wall"] < 5 else "NOT met"
    times = ", ".join(f"{r['wall']:.2f}" for r in runs)
    print(
        f"  wall time: best {best['wall']:.2f} s, runs {times} s "
        f"(target < 5 s: {verdict}); CPU time, all processes: {best['cpu']:.2f} s"
    )
    children = max(r["child_maxrss_mb"] for r in runs)
    print(
        f"  peak RSS: calling process "
        f"{max(r['maxrss_mb'] for r in runs):.0f} MB"
        + (f", largest forked child {children:.0f} MB" if processes > 1 else "")
        + f"; peak Python memory of the calling process (tracemalloc, separate "
        f"pass): {traced['tracemalloc_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
