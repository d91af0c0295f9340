"""API keys come only from the environment and never leave it (issue 7).

``tests/judging/test_llm_providers.py`` shows one adapter call keeps its key out of
``repr``, error messages and log records. Here whole judge runs and a generated
comparison set go through the fake provider with recognisable keys in the
environment, and the provider misbehaves on purpose: a 401 and a 500 whose bodies
echo the key the client sent, and an answer that quotes it. Then the key is
looked for everywhere the workbench writes: every log record (every logger at
DEBUG) and the process's stdout/stderr, every row of every table of the database,
every page and API endpoint of the workshop, the researcher exports and the value
cards. Each key's distinctive middle part is looked for too, so a key cut short
would be found as well.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.judging.fake_providers import FakeProviderServer, Recorded, Status, Success
from tests.judging.test_runs_service import URL_ENV, make_config, make_set, start
from workbench.cards.exports import export_archive, workshop_tables
from workbench.cards.render.json import cards_json
from workbench.cards.render.markdown import cards_markdown
from workbench.cards.services.build import cards_for_workshop
from workbench.judging.llm import JudgeConfigurationError, JudgeRequest, build_judge
from workbench.judging.models import (
    ComparisonSet,
    JudgeConfig,
    JudgeRun,
    Response,
    Verdict,
)
from workbench.judging.prompts import PROMPT_ID
from workbench.judging.services.generate import (
    comparison_set_generate,
    comparison_set_generation_execute,
)
from workbench.judging.services.runs import judge_run_execute

pytestmark = pytest.mark.django_db(transaction=True)

CANARY = "LEAKCANARY"
# One key in the usual "sk-" shape, one in no known shape: the second is found by
# nothing but the adapter's own knowledge of its key.
OPENAI_KEY = f"sk-proj-{CANARY}openai0a1b2c3d4e5f6g7h8i9j"
ANTHROPIC_KEY = f"{CANARY}-anthropic-9Z8y7X6w5V4u3T2s"
KEYS = (OPENAI_KEY, ANTHROPIC_KEY)
FRAGMENTS = (CANARY, "0a1b2c3d4e5f", "9Z8y7X6w5V4u")
ROOT = Path(__file__).resolve().parents[2]


def leaks(text: str) -> list[str]:
    return [piece for piece in (*KEYS, *FRAGMENTS) if piece in text]


def sent_key(recorded: Recorded) -> str:
    """The key the client sent, as the provider saw it."""
    headers = recorded.headers
    return headers.get("x-api-key") or headers.get("authorization", "").removeprefix(
        "Bearer "
    )


def hostile(recorded: Recorded) -> Status | Success:
    """Item 0: 401 quoting the key; item 1: 500 quoting it; item 2: an answer
    quoting it; generation of the sky prompt: 401 quoting it; other generations:
    a response quoting it; other judgments: a plain answer."""
    text = json.dumps(recorded.body)
    key = sent_key(recorded)
    if "Question 0 for" in text or "Why is the sky blue" in text:
        return Status(401, f"Incorrect API key provided: {key}.")
    if "Question 1 for" in text:
        return Status(500, f"upstream failed for key {key}")
    if "Question 2 for" in text:
        return Success(text=f"I will not judge. Your key is {key}", top=None)
    if "/messages" in recorded.path or "top_logprobs" in recorded.body:
        return Success()  # a judge's one-letter answer
    # A generated response that quotes the key (a proxy's debug footer, say).
    return Success(text=f"A thoughtful reply. [debug: {key}]", top=None)


@pytest.fixture
def all_logs() -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger at DEBUG, including loggers that do not
    propagate to the root (caplog sees only those that do)."""
    import anthropic  # noqa: F401 - create the SDKs' loggers first
    import openai  # noqa: F401

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    names = [None, *logging.root.manager.loggerDict]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield records
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def server(monkeypatch, settings) -> Iterator[FakeProviderServer]:
    settings.JUDGE_RETRY = {
        "max_attempts": 2,
        "base_delay": 0.01,
        "max_delay": 0.02,
        "request_timeout": 5.0,
        "deadline": 10.0,
    }
    settings.JUDGE_REQUESTS_PER_MINUTE = {}
    monkeypatch.setenv("OPENAI_LOG", "debug")  # the SDKs' own debug logging on
    monkeypatch.setenv("ANTHROPIC_LOG", "debug")
    with FakeProviderServer() as fake:
        fake.answer_with(hostile)
        monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
        monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        monkeypatch.setenv(URL_ENV, fake.openai_url)
        monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_url)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.anthropic_url)
        yield fake


def run_judges(setup) -> list[JudgeRun]:
    comparison_set = make_set(setup, items=5)
    anthropic = JudgeConfig.objects.create(
        provider="anthropic", model="claude-haiku-4-5", prompt_version=PROMPT_ID
    )
    runs = [start(comparison_set, make_config()), start(comparison_set, anthropic)]
    for run in runs:
        judge_run_execute(run_id=run.pk, concurrency=4)
        run.refresh_from_db()
    return runs


def generate(setup) -> ComparisonSet:
    comparison_set = comparison_set_generate(
        workshop=setup.workshop,
        name="generated pairs",
        prompts=["Why is the sky blue?", "How do I bake bread?"],
        principle_versions=[setup.seeds[0].versions.get()],
        provider="openai",
        model="gpt-4o-mini",
        actor=setup.workshop.owner,
        seed=3,
        enqueue=False,
    )
    comparison_set_generation_execute(comparison_set_id=comparison_set.pk)
    comparison_set.refresh_from_db()
    return comparison_set


def database_rows() -> Iterator[tuple[str, str]]:
    """(table, row as text) for every row of every table: every text, varchar,
    json and jsonb column, whatever model it belongs to."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "ORDER BY tablename"
        )
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" AS t')  # noqa: S608
            for (row,) in cursor.fetchall():
                yield table, row


def workshop_urls(slug: str, pks: list[int]) -> list[str]:
    """Every GET-able page and API endpoint that takes the workshop's slug (and a
    pk, tried with each of ``pks``): facilitator pages, judging, cards, the API."""
    urls: list[str] = []

    def walk(patterns: list[object], namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = entry.namespace or ""
                walk(
                    entry.url_patterns,
                    f"{namespace}:{inner}".strip(":") if inner else namespace,
                )
            elif isinstance(entry, URLPattern) and entry.name:
                params = set(getattr(entry.pattern, "converters", {}))
                if "slug" not in params or not params <= {"slug", "pk"}:
                    continue
                if entry.name.endswith("pdf"):
                    continue  # the PDF renders the same cards as JSON and Markdown
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                for pk in pks if "pk" in params else [None]:
                    kwargs: dict[str, object] = {"slug": slug}
                    if pk is not None:
                        kwargs["pk"] = pk
                    urls.append(reverse(name, kwargs=kwargs))

    walk(get_resolver().url_patterns, "")
    return sorted(set(urls))


def test_keys_never_leave_the_environment(setup, server, owner_client, all_logs, capfd):
    runs = run_judges(setup)
    generated = generate(setup)

    # The provider really got the keys, and really sent them back in its bodies.
    assert {sent_key(r) for r in server.requests} == set(KEYS)
    assert all(run.status == JudgeRun.Status.FAILED for run in runs)
    for run in runs:
        errors = dict(
            Verdict.objects.filter(run=run, order="ab").values_list(
                "item__prompt__text", "error"
            )
        )
        assert errors["Question 0 for pairs?"] == "refused"
        assert errors["Question 1 for pairs?"] == "server"
        assert errors["Question 2 for pairs?"] == "malformed"
        raw = "\n".join(
            Verdict.objects.filter(run=run).values_list("raw_output", flat=True)
        )
        assert raw.count("[redacted]") >= 6  # the echoed key, replaced
    assert generated.generation_status == "failed"
    assert "[redacted]" in generated.generation_error
    written = Response.objects.filter(prompt__comparison_set=generated)
    assert written.exists()
    assert all(r.text == "A thoughtful reply. [debug: [redacted]]" for r in written)
    checked: dict[str, int] = {}

    # The database: every row of every table.
    rows = 0
    for table, row in database_rows():
        rows += 1
        assert not leaks(row), (table, row)
    checked["database rows"] = rows
    stored_prompts = [
        json.dumps(r.generation_prompt)
        for r in Response.objects.filter(prompt__comparison_set=generated)
    ]
    assert stored_prompts
    assert all("gpt-4o-mini" in p or "system" in p for p in stored_prompts)

    # Every page and API endpoint of the workshop, as its owner.
    pks = sorted({run.pk for run in runs} | {runs[0].comparison_set_id, generated.pk})
    urls = workshop_urls(setup.workshop.slug, pks)
    urls += [
        f"{reverse('deliberation:encoding-gap', args=[setup.workshop.slug])}?run={r.pk}"
        for r in runs
    ]
    ok = 0
    for url in urls:
        response = owner_client.get(url)
        assert response.status_code < 500, url
        if response.status_code == 200:
            ok += 1
        body = b"".join(response) if response.streaming else response.content
        assert not leaks(body.decode("utf-8", "replace")), url
    for url in urls:  # the htmx fragments the pages poll
        response = owner_client.get(url, HTTP_HX_REQUEST="true")
        assert not leaks(response.content.decode("utf-8", "replace")), url
    assert ok >= 20, urls
    checked["urls (200)"] = ok

    # Researcher exports: every table, and the zip in every format.
    for name, frame in workshop_tables(workshop=setup.workshop).items():
        assert not leaks(frame.to_csv(index=False)), name
    for fmt in ("csv", "json", "parquet"):
        archive, _ = export_archive(workshop=setup.workshop, fmt=fmt)
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            for member in opened.namelist():
                assert not leaks(opened.read(member).decode("utf-8", "replace")), member
    # Value cards.
    cards = cards_for_workshop(workshop=setup.workshop)
    assert not leaks(cards_json(cards))
    assert not leaks(cards_markdown(cards))

    # Logs: every record of every logger, and whatever reached stdout/stderr.
    assert any(r.name.startswith(("openai", "anthropic", "httpx")) for r in all_logs)
    assert any("retrying" in r.getMessage() for r in all_logs)
    for record in all_logs:
        text = record.getMessage() + " " + repr(record.args) + repr(record.__dict__)
        assert not leaks(text), (record.name, text)
    captured = capfd.readouterr()
    assert not leaks(captured.out + captured.err)
    checked["log records"] = len(all_logs)
    print("secrets checked:", checked)  # figures for the notes (pytest -rP)


def test_keys_are_read_from_the_environment_only(server, settings, monkeypatch):
    # No setting holds a key, and none is read from the environment by settings.
    names = [n for n in dir(django_settings) if n.isupper()]
    assert not [n for n in names if re.search(r"API_?KEY", n)]
    values = json.dumps(
        {n: repr(getattr(django_settings, n)) for n in names}, default=str
    )
    assert not leaks(values)
    source = (ROOT / "workbench" / "settings.py").read_text()
    for line in source.splitlines():
        if "API_KEY" in line:
            assert line.lstrip().startswith("#"), line
    # A key put in the settings is not used: only the environment's is.
    settings.OPENAI_API_KEY = OPENAI_KEY
    settings.ANTHROPIC_API_KEY = ANTHROPIC_KEY
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(JudgeConfigurationError, match="OPENAI_API_KEY is not set"):
        build_judge("openai")
    with pytest.raises(JudgeConfigurationError, match="ANTHROPIC_API_KEY is not set"):
        build_judge("anthropic")
    # Read when a judge is built, so a new key takes effect without a restart.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-rotated-key-0001")
    judge = build_judge("openai")
    answer = judge.judge(
        JudgeRequest(principle="p", conversation="c", response_a="a", response_b="b")
    )
    assert answer.choice == "a"
    assert sent_key(server.requests[-1]) == "sk-rotated-key-0001"
    assert "rotated" not in repr(judge)


def test_judge_configs_have_no_place_for_a_key(setup, server):
    fields = {f.name for f in JudgeConfig._meta.get_fields()}
    assert not {f for f in fields if re.search("key|secret|token|password", f)}
    run = run_judges(setup)[0]
    row = JudgeConfig.objects.filter(pk=run.config_id).values().get()
    assert not leaks(json.dumps(row, default=str))
    assert row["base_url_env_name"] == URL_ENV  # the variable's name, not its value
    assert server.openai_url not in json.dumps(row, default=str)
