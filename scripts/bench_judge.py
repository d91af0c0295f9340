"""Benchmark of judge runs (issue 4): throughput against the local fake provider.

2,000 verdicts (1,000 items x both orders) against tests/judging/fake_providers.py
answering every call after 200 ms, with 16 concurrent calls, executed by the same
service a Celery worker runs (``judge_run_execute``, in this process). Reports the
wall time against the ideal 2,000 x 0.2 s / 16 = 25 s (target ratio <= 1.25), the
requests the server received (must equal the verdicts needed), and a second run over
the same items, which must be all cache hits with no request.

``--rpm N`` also gives OpenAI a budget of N requests per minute
(JUDGE_REQUESTS_PER_MINUTE, kept in Redis when CACHE_URL or CELERY_BROKER_URL is
redis://): the ideal is then the slower of the two bounds, 2,000 x 0.2 s / 16 and
1,999 x 60 s / N, and the ratio shows what the shared limiter costs.

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/workbench_bench_judge),
created and migrated if needed, and FLUSHED. Writes benchmark-judge.json
(benchmark-judge-rpm.json with --rpm).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
import urllib.parse
from multiprocessing.connection import Connection
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/workbench_bench_judge"
OUTPUT = BASE_DIR / "benchmark-judge.json"
TARGET_RATIO = 1.25
URL_ENV = "BENCH_JUDGE_BASE_URL"


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True, env=os.environ
    )


def make_items(count: int):  # -> ComparisonSet
    from django.utils import timezone

    from tests.factories import UserFactory, WorkshopFactory
    from workbench.deliberation.services.principles import principle_seed
    from workbench.judging.models import (
        ComparisonItem,
        ComparisonSet,
        Prompt,
        Response,
    )

    owner = UserFactory(username="bench")
    workshop = WorkshopFactory(owner=owner, slug=f"bench-{int(time.time())}")
    principle = principle_seed(
        workshop=workshop, text="Choose the more honest response.", actor=owner
    )
    version = principle.versions.get()
    comparison_set = ComparisonSet.objects.create(
        workshop=workshop, name="bench", source="generated"
    )
    stamp = timezone.now().isoformat()
    prompts = Prompt.objects.bulk_create(
        Prompt(comparison_set=comparison_set, text=f"Question {n} ({stamp})?")
        for n in range(count)
    )
    responses = Response.objects.bulk_create(
        Response(prompt=prompt, text=f"Answer {side} to {prompt.text}", position=i)
        for prompt in prompts
        for i, side in enumerate("AB")
    )
    ComparisonItem.objects.bulk_create(
        ComparisonItem(
            comparison_set=comparison_set,
            principle_version=version,
            prompt=prompts[n],
            response_a=responses[2 * n],
            response_b=responses[2 * n + 1],
        )
        for n in range(count)
    )
    return comparison_set


def serve(latency: float, pipe: Connection) -> None:
    """The fake provider in its own process, as a real provider is: its threads do
    not share this process's interpreter lock. Answers "count" with its requests."""
    sys.path.insert(0, str(BASE_DIR))
    from tests.judging.fake_providers import FakeProviderServer, Success

    with FakeProviderServer() as server:
        server.always(Success(delay=latency))
        pipe.send(server.openai_url)
        while (message := pipe.recv()) != "stop":
            assert message == "count"
            pipe.send(server.request_count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verdicts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--no-setup", action="store_true", help="skip migrate/flush")
    parser.add_argument(
        "--rpm", type=int, default=0, help="OpenAI requests per minute (0: no limit)"
    )
    options = parser.parse_args()
    if options.rpm:
        os.environ["JUDGE_RPM_OPENAI"] = str(options.rpm)

    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(BASE_DIR))
    if not options.no_setup:
        ensure_database(os.environ["DATABASE_URL"])
        manage("migrate", "--noinput", "-v0")
        manage("flush", "--noinput", "-v0")

    results = run_twice(options)
    return report(options, results)


def run_twice(options: argparse.Namespace) -> dict[str, dict[str, object]]:
    import django

    django.setup()
    from workbench.judging.models import JudgeConfig, Verdict
    from workbench.judging.selectors import judge_run_progress
    from workbench.judging.services.runs import judge_run_execute, judge_run_start
    from workbench.judging.services.throttle import KEY_PREFIX, throttle_redis_url

    comparison_set = make_items(options.verdicts // 2)
    config = JudgeConfig.objects.create(
        provider="openai",
        model="gpt-4o-mini",
        prompt_version="cai-pairwise-v1",
        base_url_env_name=URL_ENV,
    )
    results: dict[str, dict[str, object]] = {}
    context = multiprocessing.get_context("spawn")
    pipe, child_pipe = context.Pipe()
    server = context.Process(target=serve, args=(options.latency, child_pipe))
    server.start()

    def requests() -> int:
        pipe.send("count")
        return int(pipe.recv())

    redis_url = throttle_redis_url()
    # Named, not printed: the URL may hold a password.
    options.budget_store = "Redis" if redis_url else "this process"
    if options.rpm and redis_url:
        import redis

        # A reservation left by an earlier run would delay this one.
        redis.Redis.from_url(redis_url).delete(f"{KEY_PREFIX}openai")
    try:
        os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
        os.environ[URL_ENV] = pipe.recv()
        for name in ("first", "second"):
            run = judge_run_start(
                comparison_set=comparison_set, config=config, actor=None, enqueue=False
            )
            before = requests()
            started = time.perf_counter()
            judge_run_execute(run_id=run.pk, concurrency=options.concurrency)
            wall = time.perf_counter() - started
            progress = judge_run_progress(run=run)
            results[name] = {
                "verdicts": Verdict.objects.filter(run=run).count(),
                "needed": run.verdicts_total,
                "requests": requests() - before,
                "cache_hits": progress["cache_hits"],
                "status": progress["status"],
                "wall_s": round(wall, 2),
            }
    finally:
        pipe.send("stop")
        server.join(timeout=10)
    return results


def report(options: argparse.Namespace, results: dict[str, dict[str, object]]) -> int:
    ideal = options.verdicts * options.latency / options.concurrency
    if options.rpm:
        ideal = max(ideal, (options.verdicts - 1) * 60 / options.rpm)
    first, second = results["first"], results["second"]
    ratio = float(first["wall_s"]) / ideal  # type: ignore[arg-type]
    checks = {
        "ratio_within_target": ratio <= TARGET_RATIO,
        "requests_equal_verdicts": first["requests"] == first["needed"],
        "second_run_all_cache_hits": second["cache_hits"] == second["needed"]
        and second["requests"] == 0,
    }
    figures = {
        "verdicts": options.verdicts,
        "concurrency": options.concurrency,
        "latency_s": options.latency,
        "requests_per_minute": options.rpm or None,
        "budget_kept_in": options.budget_store if options.rpm else None,
        "ideal_s": round(ideal, 2),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "first_run": first,
        "second_run": second,
        "checks": checks,
    }
    output = OUTPUT.with_name("benchmark-judge-rpm.json") if options.rpm else OUTPUT
    output.write_text(json.dumps(figures, indent=2) + "\n")
    if options.rpm:
        print(f"budget: {options.rpm} requests/minute, kept in {options.budget_store}")
    print(
        f"first run: {first['verdicts']} verdicts in {first['wall_s']:.1f}s "
        f"(ideal {ideal:.1f}s, ratio {ratio:.3f}, target <= {TARGET_RATIO}); "
        f"{first['requests']} requests for {first['needed']} verdicts needed"
    )
    print(
        f"second run: {second['cache_hits']}/{second['needed']} cache hits, "
        f"{second['requests']} requests, {second['wall_s']:.1f}s"
    )
    print(
        "checks: "
        + ", ".join(f"{k}={'ok' if v else 'FAIL'}" for k, v in checks.items())
    )
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
