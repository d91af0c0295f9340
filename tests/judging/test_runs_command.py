"""`manage.py judge` end to end: the offline baseline over ICAI data in-process
(--eager), and the fake provider through a real Celery worker."""

from __future__ import annotations

import io
import time

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from tests.judging.fake_providers import FakeProviderServer
from tests.judging.test_runs_service import ITEMS, URL_ENV, make_set
from tests.shared_data import icai_orthogonal_csv
from tests.worker import live_worker  # noqa: F401 - the fixture, used by name
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.models import JudgeConfig, JudgeRun, Verdict
from workbench.judging.services.runs import judge_run_start

ICAI = icai_orthogonal_csv()


@pytest.mark.skipif(not ICAI.is_file(), reason="ICAI data not present")
def test_judge_command_offline_eager_on_icai_then_all_from_the_cache(setup):
    rows = len(pd.read_csv(ICAI, index_col=0))
    comparisons_import(
        workshop=setup.workshop,
        path=ICAI,
        principle_text="Prefer responses about cats.",
    )
    out = io.StringIO()
    call_command(
        "judge", setup.workshop.slug, "--provider", "offline", "--eager", stdout=out
    )
    run = JudgeRun.objects.get()
    assert run.status == JudgeRun.Status.DONE
    assert run.verdicts_total == run.verdicts_done == rows * 2
    assert Verdict.objects.filter(run=run).count() == rows * 2
    text = out.getvalue()
    assert f"{rows * 2}/{rows * 2} 100.0%" in text
    assert "[" + "#" * 30 + "]" in text
    assert "done" in text
    assert run.config.provider == "offline"

    out = io.StringIO()
    call_command(
        "judge", setup.workshop.slug, "--provider", "offline", "--eager", stdout=out
    )
    second = JudgeRun.objects.exclude(pk=run.pk).get()
    assert second.config_id == run.config_id  # the same judge is reused
    assert second.cache_hits == rows * 2
    assert f"{rows * 2} from the cache" in out.getvalue()


def test_judge_command_refuses_an_unknown_workshop_or_set(setup):
    with pytest.raises(CommandError, match="no workshop"):
        call_command("judge", "nope", "--provider", "offline", "--eager")
    with pytest.raises(CommandError, match="no comparison set"):
        call_command(
            "judge", setup.workshop.slug, "--provider", "offline", "--set", "x"
        )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_judge_task(setup, monkeypatch, request):
    with FakeProviderServer() as server:
        # The worker copies this environment when it starts.
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv(URL_ENV, server.openai_url)
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
        request.getfixturevalue("live_worker")
        comparison_set = make_set(setup)
        config = JudgeConfig.objects.create(
            provider="openai",
            model="gpt-4o-mini",
            prompt_version="cai-pairwise-v1",
            base_url_env_name=URL_ENV,
        )
        run = judge_run_start(comparison_set=comparison_set, config=config, actor=None)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status not in {JudgeRun.Status.PENDING, JudgeRun.Status.RUNNING}:
                break
            time.sleep(0.2)
        assert run.status == JudgeRun.Status.DONE, run.error
        assert Verdict.objects.filter(run=run).count() == ITEMS * 2
        assert server.request_count == ITEMS * 2

        # The command, through the worker: the same judge, so all from the cache.
        out = io.StringIO()
        call_command("judge", setup.workshop.slug, "--provider", "openai", stdout=out)
        assert f"{ITEMS * 2} from the cache" in out.getvalue()
        assert server.request_count == ITEMS * 2
