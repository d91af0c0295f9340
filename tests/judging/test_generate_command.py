"""`manage.py generate_comparisons` against the local fake provider: in-process
(--eager) from a text or JSON Lines file, refusals with clear messages, --resume
after a failure (no response paid twice), and through a real Celery worker."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.judging.fake_providers import FakeProviderServer, ServerError
from tests.judging.test_generate import reply_for
from tests.worker import live_worker  # noqa: F401 - the fixture, used by name
from workbench.deliberation.models import Principle
from workbench.judging.models import ComparisonSet, GenerationStatus, Response


@pytest.fixture
def server(monkeypatch, settings):
    settings.JUDGE_CONCURRENCY = {"openai": 1, "anthropic": 1}
    settings.JUDGE_RETRY = {"max_attempts": 2, "base_delay": 0.01, "max_delay": 0.02}
    with FakeProviderServer() as fake:
        fake.answer_with(reply_for)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-command-not-real")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_url)
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        yield fake


def generate(setup, *args: str) -> str:
    out = io.StringIO()
    call_command("generate_comparisons", setup.workshop.slug, *args, stdout=out)
    return out.getvalue()


def test_eager_generation_from_a_text_file(setup, server, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Why is the sky blue?\n\n  Can you keep a secret?  \n")
    first = setup.seeds[0]
    out = generate(
        setup,
        "--provider",
        "openai",
        "--prompts",
        str(prompts),
        "--principle",
        str(first.pk),
        "--eager",
    )
    comparison_set = ComparisonSet.objects.get()
    assert comparison_set.name == "generated from prompts.txt"
    assert comparison_set.generation_status == GenerationStatus.DONE
    assert comparison_set.items.count() == 2
    assert server.request_count == 4
    assert {i.principle_version.principle_id for i in comparison_set.items.all()} == {
        first.pk
    }
    assert "[" + "#" * 30 + "] 4/4 100.0%" in out
    assert "done, 4 of 4 responses, 2 items" in out


def test_jsonl_prompts_and_every_accepted_principle_by_default(setup, server, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    rows = [{"prompt": "Is 97 prime?"}, {"prompt": "Line one\nline two"}]
    prompts.write_text("\n".join(json.dumps(r) for r in rows))
    generate(
        setup,
        "--provider",
        "openai",
        "--prompts",
        str(prompts),
        "--name",
        "jsonl set",
        "--eager",
    )
    comparison_set = ComparisonSet.objects.get(name="jsonl set")
    assert list(comparison_set.prompts.values_list("text", flat=True)) == [
        "Is 97 prime?",
        "Line one\nline two",
    ]
    assert comparison_set.items.count() == 2 * len(setup.seeds)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("Why?\n", ["--principle", "999999"], "Not an accepted principle"),
        ('{"prompt": "ok"}\n{"text": "no"}\n', [], 'line 2: no "prompt" string'),
        ('{"prompt": "ok"}\n{broken\n', [], "line 2: not JSON"),
        ("\n\n", [], "has no prompts"),
        ("Same?\nSame?\n", [], "Prompt 2 repeats prompt 1"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    setup, server, tmp_path, content, args, message
):
    path = tmp_path / "prompts.txt"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        generate(setup, "--provider", "openai", "--prompts", str(path), *args)
    assert not ComparisonSet.objects.exists()
    assert server.request_count == 0


def test_refusals_before_any_call(setup, server, tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("Why?\n")
    with pytest.raises(CommandError, match="no workshop"):
        call_command("generate_comparisons", "nope", "--provider", "openai")
    with pytest.raises(CommandError, match="There is no file"):
        generate(setup, "--provider", "openai", "--prompts", str(tmp_path / "x"))
    with pytest.raises(CommandError, match="invalid choice: 'offline'"):
        generate(setup, "--provider", "offline", "--prompts", str(path))
    with pytest.raises(CommandError, match="set ANTHROPIC_API_KEY"):
        generate(setup, "--provider", "anthropic", "--prompts", str(path))
    with pytest.raises(CommandError, match="--base-url works with --eager only"):
        generate(
            setup,
            "--provider",
            "openai-compatible",
            "--model",
            "m",
            "--prompts",
            str(path),
            "--base-url",
            server.openai_url,
        )
    with pytest.raises(CommandError, match="--provider and --prompts are required"):
        generate(setup)
    Principle.objects.update(status=Principle.Status.PENDING)
    with pytest.raises(CommandError, match="has no accepted principles"):
        generate(setup, "--provider", "openai", "--prompts", str(path))
    assert not ComparisonSet.objects.exists()
    assert server.request_count == 0


def test_a_failed_generation_is_resumed_without_paying_twice(setup, server, tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("Why is the sky blue?\nIs 97 prime?\n")
    calls_before_outage = 3

    def outage_after_three(request):
        if len(server.requests) > calls_before_outage:
            return ServerError(500)
        return reply_for(request)

    server.answer_with(outage_after_three)
    with pytest.raises(CommandError, match="--resume") as caught:
        generate(setup, "--provider", "openai", "--prompts", str(path), "--eager")
    comparison_set = ComparisonSet.objects.get()
    assert f"--resume {comparison_set.pk}" in str(caught.value)
    assert comparison_set.generation_status == GenerationStatus.FAILED
    stored = Response.objects.filter(prompt__comparison_set=comparison_set).count()
    assert stored == calls_before_outage

    server.answer_with(reply_for)
    failed_calls = server.request_count - stored
    out = generate(setup, "--resume", str(comparison_set.pk), "--eager")
    comparison_set.refresh_from_db()
    assert comparison_set.generation_status == GenerationStatus.DONE
    needed = 2 * 2 * len(setup.seeds)
    assert server.request_count - failed_calls == needed  # each response paid once
    assert "done" in out
    with pytest.raises(CommandError, match="nothing to resume"):
        generate(setup, "--resume", str(comparison_set.pk), "--eager")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_generates_the_set(setup, monkeypatch, request, tmp_path):
    with FakeProviderServer() as server:
        server.answer_with(reply_for)
        # The worker copies this environment when it starts.
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
        request.getfixturevalue("live_worker")
        path = tmp_path / "prompts.txt"
        path.write_text("Why is the sky blue?\nIs 97 prime?\n")
        out = generate(setup, "--provider", "openai", "--prompts", str(path))
        comparison_set = ComparisonSet.objects.get()
        assert comparison_set.generation_status == GenerationStatus.DONE
        needed = 2 * 2 * len(setup.seeds)
        assert server.request_count == needed
        assert comparison_set.items.count() == needed // 2
        assert f"{needed}/{needed} 100.0%" in out
