"""Benchmark of the Polis-compatible analysis (issue 3), side by side with red-dwarf.

Each measurement runs in its own subprocess, so peak memory (ru_maxrss) belongs to
that one run: the child imports everything and loads the votes, notes its peak RSS
(the baseline), runs one full analysis under a wall clock, and reports the new peak
and the rise over the baseline. Every measurement is repeated (--repeat, default 3);
the table shows the median time and the highest peak.

Data: the openData conversations vtaiwan.uberx and austria-climate (CC BY 4.0, The
Computational Democracy Project) read from POLIS_DATA_DIR (the Django setting, or
../shared/data/polis beside the repository), never copied. The synthetic matrix is
20,000 participants x 2,000 principles at 5% density, seeded, with three latent
opinion groups. red-dwarf (PyPI red-dwarf) runs on the same votes, and the
consensus lists (principles, order, counts, probabilities, tests) must be
identical; the group-aware consensus is compared given red-dwarf's own partition.

Writes benchmark-analysis.json in the working directory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONVERSATIONS = {
    "vtaiwan": "vtaiwan.uberx",
    "austria": "austria-climate.5twd2jsnkf.2022-08-08",
}
SYNTHETIC = {"participants": 20_000, "principles": 2_000, "density": 0.05, "seed": 2025}
TARGET_SPEEDUP = 3.0
TARGET_SYNTHETIC_S = 20.0
TARGET_SYNTHETIC_MB = 2048.0
TOLERANCE = 1e-12


def data_dir() -> Path:
    """settings.WORKBENCH["POLIS_DATA_DIR"] when Django is configured, else the
    shared folder beside the repository."""
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
        os.environ.setdefault("DEBUG", "1")
        sys.path.insert(0, str(REPO))
        import django
        from django.conf import settings

        django.setup()
        configured = settings.WORKBENCH.get("POLIS_DATA_DIR")
        if configured:
            return Path(configured)
    except Exception as error:  # any configuration problem: use the default
        print(f"settings not read ({error}); using the default data dir")
    return REPO.parent / "shared" / "data" / "polis"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- child side -------------------------------------------------------------


def load_conversation(folder: Path) -> tuple[Any, list[int], list[int]]:
    import pandas as pd

    grid = pd.read_csv(folder / "participants-votes.csv")
    comments = pd.read_csv(folder / "comments.csv")
    columns = [c for c in grid.columns if c.isdigit()]
    votes = grid.melt(
        id_vars=["participant"],
        value_vars=columns,
        var_name="principle",
        value_name="vote",
    ).dropna()
    votes = votes.astype({"principle": int, "vote": int}).reset_index(drop=True)
    mod_out = comments.loc[comments.moderated == -1, "comment-id"].tolist()
    meta: list[int] = []
    if "is-meta" in comments:
        flags = comments["is-meta"].astype(str).str.lower() == "true"
        meta = comments.loc[flags, "comment-id"].tolist()
    return votes, mod_out, meta


def synthetic_votes() -> Any:
    """Seeded 5%-dense votes with three latent groups (agree +1, disagree -1,
    pass 0)."""
    import numpy as np
    import pandas as pd

    n, m = SYNTHETIC["participants"], SYNTHETIC["principles"]
    rng = np.random.default_rng(SYNTHETIC["seed"])
    target = int(n * m * SYNTHETIC["density"])
    cells = np.unique(rng.integers(0, n * m, size=int(target * 1.03)))
    cells = np.sort(rng.choice(cells, size=target, replace=False))
    rows, cols = np.divmod(cells, m)
    group = rng.integers(0, 3, size=n)
    p_agree = rng.beta(2, 2, size=(3, m))[group[rows], cols]
    r = rng.random(target)
    vote = np.where(r < p_agree, 1, np.where(r < p_agree + (1 - p_agree) * 0.8, -1, 0))
    return pd.DataFrame({"participant": rows, "principle": cols, "vote": vote})


def consensus_rows(entries: list[Any]) -> list[list[float]]:
    return [
        [float(e.principle), e.n_success, e.n_trials, e.p_success, e.p_test]
        for e in entries
    ]


def run_ours(votes: Any, mod_out: list[int], meta: list[int]) -> dict[str, Any]:
    from workbench.analysis.polis.pipeline import analyze

    start = time.perf_counter()
    result = analyze(votes, mod_out=mod_out, meta=meta)
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "groups": len(result.opinion.group_ids),
        "consensus": {
            "agree": consensus_rows(result.consensus.agree),
            "disagree": consensus_rows(result.consensus.disagree),
        },
    }


def reddwarf_consensus(result: Any) -> dict[str, list[list[float]]]:
    return {
        side: [
            [
                float(s["tid"]),
                int(s["n-success"]),
                int(s["n-trials"]),
                float(s["p-success"]),
                float(s["p-test"]),
            ]
            for s in result.consensus[side]
        ]
        for side in ("agree", "disagree")
    }


def gac_difference(votes: Any, mod_out: list[int], meta: list[int], rd: Any) -> float:
    """Largest difference between red-dwarf's group-aware consensus and ours given
    red-dwarf's partition (computed outside the timed run)."""
    import numpy as np

    from workbench.analysis.polis.pipeline import analyze

    labels = rd.participants_df["cluster_id"].dropna().astype(int).to_dict()
    ours = analyze(votes, mod_out=mod_out, meta=meta, groups=labels)
    assert ours.predefined is not None
    theirs = rd.group_aware_consensus["agree"]
    mine = dict(
        zip(
            ours.matrix.principles.tolist(),
            ours.predefined.group_aware_consensus,
            strict=True,
        )
    )
    diffs = [abs(mine[k] - v) for k, v in theirs.items() if k in mine]
    return float(np.max(diffs)) if diffs else 0.0


def run_reddwarf(votes: Any, mod_out: list[int], meta: list[int]) -> dict[str, Any]:
    from reddwarf.implementations.polis import run_pipeline

    records = (
        votes.rename(
            columns={"participant": "participant_id", "principle": "statement_id"}
        )
        .assign(modified=range(len(votes)))
        .to_dict("records")
    )
    start = time.perf_counter()
    result = run_pipeline(
        votes=records,
        mod_out_statement_ids=mod_out,
        meta_statement_ids=meta,
        random_state=0,
    )
    elapsed = time.perf_counter() - start
    labels = result.participants_df["cluster_id"].dropna()
    return {
        "seconds": elapsed,
        "groups": int(labels.nunique()),
        "consensus": reddwarf_consensus(result),
        "gac_max_difference": gac_difference(votes, mod_out, meta, result),
    }


def child(kind: str, dataset: str, folder: str) -> None:
    if dataset == "synthetic":
        votes, mod_out, meta = synthetic_votes(), [], []
    else:
        votes, mod_out, meta = load_conversation(Path(folder) / CONVERSATIONS[dataset])
    import workbench.analysis.polis.pipeline  # noqa: F401 - imports in the baseline

    if kind == "reddwarf":
        import reddwarf.implementations.polis  # noqa: F401
    baseline = peak_mb()
    run = run_ours if kind == "ours" else run_reddwarf
    out = run(votes, mod_out, meta)
    out |= {"peak_mb": peak_mb(), "baseline_mb": baseline, "votes": len(votes)}
    out["participants"] = int(votes["participant"].nunique())
    out["principles"] = int(votes["principle"].nunique())
    print(json.dumps(out))


# --- parent side ------------------------------------------------------------


def measure(kind: str, dataset: str, folder: Path, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", kind, dataset, str(folder)],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    summary = dict(runs[0])
    summary["seconds"] = statistics.median(r["seconds"] for r in runs)
    summary["seconds_all"] = [r["seconds"] for r in runs]
    summary["peak_mb"] = max(r["peak_mb"] for r in runs)
    summary["rise_mb"] = max(r["peak_mb"] - r["baseline_mb"] for r in runs)
    return summary


def same_consensus(a: dict[str, Any], b: dict[str, Any]) -> bool:
    for side in ("agree", "disagree"):
        rows_a, rows_b = a[side], b[side]
        if len(rows_a) != len(rows_b):
            return False
        for x, y in zip(rows_a, rows_b, strict=True):
            if x[:3] != y[:3] or any(
                abs(p - q) > TOLERANCE for p, q in zip(x[3:], y[3:], strict=True)
            ):
                return False
    return True


def machine() -> dict[str, Any]:
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def compare(folder: Path, repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for dataset in CONVERSATIONS:
        ours = measure("ours", dataset, folder, repeat)
        theirs = measure("reddwarf", dataset, folder, repeat)
        results[dataset] = {
            "ours": ours,
            "reddwarf": theirs,
            "speedup": theirs["seconds"] / ours["seconds"],
            "consensus_identical": same_consensus(
                ours["consensus"], theirs["consensus"]
            ),
            "gac_max_difference": theirs["gac_max_difference"],
        }
    results["synthetic"] = {"ours": measure("ours", "synthetic", folder, repeat)}
    return results


def print_table(results: dict[str, Any]) -> None:
    names = ("ours s", "ours MB", "rd s", "rd MB", "speedup")
    header = f"{'data':<10} {'size':>13} " + " ".join(f"{n:>8}" for n in names)
    header += f" {'consensus':>10}"
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        o = r["ours"]
        size = f"{o['participants']}x{o['principles']}"
        if "reddwarf" in r:
            t = r["reddwarf"]
            same = "identical" if r["consensus_identical"] else "DIFFERENT"
            print(
                f"{name:<10} {size:>13} {o['seconds']:>8.2f} {o['peak_mb']:>8.0f} "
                f"{t['seconds']:>8.2f} {t['peak_mb']:>8.0f} "
                f"{r['speedup']:>7.1f}x {same:>10}"
            )
        else:
            print(f"{name:<10} {size:>13} {o['seconds']:>8.2f} {o['peak_mb']:>8.0f}")


def check_targets(results: dict[str, Any]) -> list[str]:
    failures = []
    for dataset in CONVERSATIONS:
        r = results[dataset]
        if r["speedup"] < TARGET_SPEEDUP:
            failures.append(f"{dataset}: {r['speedup']:.1f}x, target {TARGET_SPEEDUP}x")
        if not r["consensus_identical"]:
            failures.append(f"{dataset}: consensus differs from red-dwarf")
    synthetic = results["synthetic"]["ours"]
    if synthetic["seconds"] > TARGET_SYNTHETIC_S:
        failures.append(f"synthetic: {synthetic['seconds']:.1f} s")
    if synthetic["peak_mb"] > TARGET_SYNTHETIC_MB:
        failures.append(f"synthetic: {synthetic['peak_mb']:.0f} MB")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("KIND", "DATASET", "DIR"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default="benchmark-analysis.json")
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(REPO))
        child(*args.child)
        return 0
    folder = data_dir()
    load_before = os.getloadavg()
    results = compare(folder, args.repeat)
    load_after = os.getloadavg()
    print_table(results)
    print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")
    failures = check_targets(results)
    report = {
        "machine": machine(),
        "load_average": {"before": load_before, "after": load_after},
        "repeat": args.repeat,
        "synthetic": SYNTHETIC,
        "results": results,
        "targets_missed": failures,
    }
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    for failure in failures:
        print(f"target missed: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
