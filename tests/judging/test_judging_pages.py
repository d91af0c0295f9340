"""The facilitator's judging pages, through HTTP: comparison sets, starting an
offline run or a no-principle control run, its live progress, cancel and resume,
compare-round coverage, only available providers offered, generating a set with
its live progress, linking a set to a compare round, the outsider's 404 and
escaping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ParticipantFactory, WorkshopFactory
from tests.judging.fake_providers import FakeProviderServer, ServerError, Success
from tests.judging.judging_fixtures import make_offline_run, make_set
from workbench.deliberation.models import Round
from workbench.deliberation.services.principles import principle_seed
from workbench.deliberation.services.rounds import round_create
from workbench.judging.models import (
    ComparisonSet,
    HumanJudgment,
    JudgeConfig,
    JudgeControl,
    JudgeRun,
    RunStatus,
)
from workbench.judging.services.generate import comparison_set_generation_execute
from workbench.judging.services.runs import judge_run_execute

HTMX = {"HTTP_HX_REQUEST": "true"}
PROVIDER_ENV = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENAI_BASE_URL",
    "WORKBENCH_JUDGE_BASE_URL",
)


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch):
    """Only the offline baseline is available unless a test sets a key."""
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)


def judging_url(setup) -> str:
    return reverse("deliberation:judging", kwargs={"slug": setup.workshop.slug})


def run_url(setup, run: JudgeRun, action: str = "") -> str:
    name = "deliberation:judge-run" + (f"-{action}" if action else "")
    return reverse(name, kwargs={"slug": setup.workshop.slug, "pk": run.pk})


def test_owner_sees_sets_and_starts_an_offline_run(
    owner_client, setup, django_capture_on_commit_callbacks
):
    comparison_set = make_set(setup, name="Nurses' pairs", items=3)
    page = owner_client.get(judging_url(setup))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nurses&#x27; pairs" in html
    assert 'hx-trigger="every 5s"' in html  # the coverage section polls

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(
            judging_url(setup),
            {
                "comparison_set": comparison_set.pk,
                "provider": "offline",
                "model": "",
                "samples": "2",
            },
        )
    run = JudgeRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == run_url(setup, run)
    assert len(callbacks) == 1  # the Celery task is enqueued after commit
    assert run.config.provider == "offline"
    assert run.verdicts_total == 3 * 2 * 2  # items, orders, samples
    assert run.created_by is not None

    pending = owner_client.get(run_url(setup, run), **HTMX).content.decode()
    assert "0 of 12 verdicts, 0 from cache, 0 failed, $0.0000" in pending
    assert 'hx-trigger="every 2s"' in pending
    assert "<progress" in pending
    assert "<html" not in pending  # a fragment

    judge_run_execute(run_id=run.pk)
    page = owner_client.get(run_url(setup, run)).content.decode()
    assert "12 of 12 verdicts, 0 from cache, 0 failed, $0.0000" in page
    assert 'value="100.0"' in page
    assert "hx-trigger" not in page  # finished: polling stops
    assert "Cancel run" not in page

    listing = owner_client.get(judging_url(setup)).content.decode()
    assert "12 / 12" in listing
    assert "Done" in listing


def test_a_set_without_items_is_refused_with_a_message(owner_client, setup):
    empty = make_set(setup, name="empty", items=0)
    response = owner_client.post(
        judging_url(setup),
        {"comparison_set": empty.pk, "provider": "offline", "samples": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert "has no items to judge" in response.content.decode()
    assert not JudgeRun.objects.exists()


def test_a_provider_without_default_needs_a_model(owner_client, setup, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    comparison_set = make_set(setup)
    response = owner_client.post(
        judging_url(setup),
        {
            "comparison_set": comparison_set.pk,
            "provider": "openai-compatible",
            "samples": "1",
        },
    )
    assert response.status_code == 200
    assert "needs a model name" in response.content.decode()
    assert not JudgeRun.objects.exists()


def test_cancel_then_resume(owner_client, setup, django_capture_on_commit_callbacks):
    run = make_offline_run(setup)
    page = owner_client.get(run_url(setup, run)).content.decode()
    assert "Cancel run" in page
    assert owner_client.get(run_url(setup, run, "cancel")).status_code == 405

    response = owner_client.post(run_url(setup, run, "cancel"))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    page = owner_client.get(run_url(setup, run)).content.decode()
    assert "Resume run" in page
    assert "hx-trigger" not in page

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        owner_client.post(run_url(setup, run, "resume"))
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING
    assert len(callbacks) == 1


def test_coverage_of_a_compare_round_is_polled(owner_client, setup):
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE)
    comparison_set = make_set(setup, items=2)
    comparison_set.round = round_
    comparison_set.save()
    item = comparison_set.items.order_by("id").first()
    for _ in range(3):
        HumanJudgment.objects.create(
            item=item, participant=ParticipantFactory(group=setup.group_a), label="a"
        )
    fragment = owner_client.get(judging_url(setup), **HTMX).content.decode()
    assert 'id="coverage"' in fragment
    assert "<html" not in fragment
    assert "Nurses" in fragment and "Teachers" in fragment
    assert '<td class="num">3</td>' in fragment


def test_outsider_gets_404(outsider_client, setup):
    run = make_offline_run(setup)
    for url in (
        judging_url(setup),
        run_url(setup, run),
    ):
        assert outsider_client.get(url).status_code == 404
    for url in (run_url(setup, run, "cancel"), run_url(setup, run, "resume")):
        assert outsider_client.post(url).status_code == 404
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING


def test_a_run_of_another_workshop_is_not_found(owner_client, setup):
    other = WorkshopFactory(owner=setup.workshop.owner, slug="other")
    run = make_offline_run(setup)
    url = reverse("deliberation:judge-run", kwargs={"slug": other.slug, "pk": run.pk})
    assert owner_client.get(url).status_code == 404


@pytest.mark.parametrize("page", ["judging", "run"])
def test_user_text_is_escaped(owner_client, setup, page):
    run = make_offline_run(setup, name="<script>alert(1)</script>")
    url = judging_url(setup) if page == "judging" else run_url(setup, run)
    html = owner_client.get(url).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- available providers and the control option ------------------------------------


def test_unavailable_judges_are_shown_disabled_with_what_to_set(owner_client, setup):
    make_set(setup)
    html = owner_client.get(judging_url(setup)).content.decode()
    assert '<option value="offline" selected>' in html
    assert (
        '<option value="openai" disabled>OpenAI (not available: set OPENAI_API_KEY)'
        in html
    )
    assert "set ANTHROPIC_API_KEY" in html
    assert "set OPENAI_BASE_URL to the server&#x27;s URL" in html
    assert "Control: no principle (the judge&#x27;s own taste)" in html


def test_an_unavailable_judge_is_refused(owner_client, setup):
    comparison_set = make_set(setup)
    response = owner_client.post(
        judging_url(setup),
        {"comparison_set": comparison_set.pk, "provider": "openai", "samples": "1"},
    )
    assert response.status_code == 200
    assert "This provider is not available: set OPENAI_API_KEY." in (
        response.content.decode()
    )
    assert not JudgeRun.objects.exists()


def test_a_key_in_the_environment_makes_a_judge_available(
    owner_client, setup, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-pages-not-real")
    comparison_set = make_set(setup)
    html = owner_client.get(judging_url(setup)).content.decode()
    assert '<option value="openai">OpenAI</option>' in html
    assert "sk-test-pages-not-real" not in html
    with django_capture_on_commit_callbacks(execute=False):
        owner_client.post(
            judging_url(setup),
            {"comparison_set": comparison_set.pk, "provider": "openai", "samples": "1"},
        )
    config = JudgeRun.objects.get().config
    assert (config.provider, config.model) == ("openai", "gpt-4o-mini")
    assert config.base_url_env_name == ""


def test_an_openai_compatible_judge_names_the_url_variable_for_the_worker(
    owner_client, setup, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    comparison_set = make_set(setup)
    with django_capture_on_commit_callbacks(execute=False):
        owner_client.post(
            judging_url(setup),
            {
                "comparison_set": comparison_set.pk,
                "provider": "openai-compatible",
                "model": "llama-3.1-8b",
                "samples": "1",
            },
        )
    config = JudgeRun.objects.get().config
    assert config.base_url_env_name == "OPENAI_BASE_URL"  # a name, never the URL
    assert "127.0.0.1" not in str(JudgeConfig.objects.values().get())


def test_a_control_run_is_started_from_the_form_and_labelled(
    owner_client, setup, django_capture_on_commit_callbacks
):
    comparison_set = make_set(setup)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(
            judging_url(setup),
            {
                "comparison_set": comparison_set.pk,
                "provider": "offline",
                "samples": "1",
                "control": "no-principle",
            },
        )
    assert response.status_code == 302
    assert len(callbacks) == 1
    run = JudgeRun.objects.get()
    assert run.config.control == JudgeControl.NO_PRINCIPLE
    listing = owner_client.get(judging_url(setup)).content.decode()
    assert "control: no principle" in listing

    with django_capture_on_commit_callbacks(execute=False):
        owner_client.post(
            judging_url(setup),
            {
                "comparison_set": comparison_set.pk,
                "provider": "offline",
                "samples": "1",
            },
        )
    controls = JudgeRun.objects.values_list("config__control", flat=True)
    assert sorted(controls) == ["", "no-principle"]  # two configs, not one


# --- generating a comparison set ----------------------------------------------------


def generate_url(setup) -> str:
    return reverse(
        "deliberation:judging-generate", kwargs={"slug": setup.workshop.slug}
    )


def set_url(setup, comparison_set, action: str = "") -> str:
    name = "deliberation:judging-set" + (f"-{action}" if action else "")
    return reverse(name, kwargs={"slug": setup.workshop.slug, "pk": comparison_set.pk})


@pytest.fixture
def fake_openai(monkeypatch):
    with FakeProviderServer() as server:
        server.answer_with(
            lambda request: Success(
                text=f"reply {len(server.requests)} <b>bold</b>", top=None
            )
        )
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-pages-not-real")
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
        yield server


def generate_form(setup, **change) -> dict[str, object]:
    return {
        "name": "Nurses' pairs",
        "principles": [p.versions.get().pk for p in setup.seeds[:2]],
        "prompts": "Should I worry about my results?\n\n  Is 97 prime?  \n",
        "provider": "openai",
        "model": "",
        **change,
    }


def test_without_a_provider_the_generate_page_says_what_to_set(owner_client, setup):
    html = owner_client.get(generate_url(setup)).content.decode()
    assert "No language model is available to write responses" in html
    assert '<button type="submit" disabled>' in html
    assert 'value="offline"' not in html  # the baseline cannot write
    assert "OpenAI (not available: set OPENAI_API_KEY)" in html
    response = owner_client.post(generate_url(setup), generate_form(setup))
    assert response.status_code == 200
    assert "This provider is not available: set OPENAI_API_KEY." in (
        response.content.decode()
    )
    assert not ComparisonSet.objects.exists()


def test_owner_generates_a_set_and_watches_it_fill(
    owner_client, setup, fake_openai, django_capture_on_commit_callbacks
):
    page = owner_client.get(generate_url(setup)).content.decode()
    for seed in setup.seeds:
        assert seed.text.replace("'", "&#x27;") in page  # accepted principles
    assert '<option value="openai" selected>OpenAI</option>' in page

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(generate_url(setup), generate_form(setup))
    comparison_set = ComparisonSet.objects.get()
    assert response.status_code == 302
    assert response["Location"] == set_url(setup, comparison_set)
    assert len(callbacks) == 1  # the task is enqueued after commit
    assert comparison_set.created_by == setup.workshop.owner
    assert list(comparison_set.prompts.values_list("text", flat=True)) == [
        "Should I worry about my results?",
        "Is 97 prime?",
    ]
    assert fake_openai.request_count == 0

    pending = owner_client.get(set_url(setup, comparison_set), **HTMX).content
    fragment = pending.decode()
    assert "0 of 8 responses written, 0 pairs ready" in fragment
    assert 'hx-trigger="every 2s"' in fragment
    assert "<html" not in fragment

    comparison_set_generation_execute(
        comparison_set_id=comparison_set.pk, concurrency=1
    )
    page = owner_client.get(set_url(setup, comparison_set)).content.decode()
    assert "8 of 8 responses written, 4 pairs ready" in page
    assert "hx-trigger" not in page  # finished: polling stops
    assert "openai · gpt-4o-mini" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page  # model text is escaped too
    assert "<b>bold</b>" not in page
    assert fake_openai.request_count == 8

    listing = owner_client.get(judging_url(setup)).content.decode()
    assert f'<option value="{comparison_set.pk}">Nurses&#x27; pairs</option>' in (
        listing
    )  # ready to judge


def test_a_failed_generation_can_be_resumed_from_its_page(
    owner_client, setup, fake_openai, settings, django_capture_on_commit_callbacks
):
    settings.JUDGE_RETRY = {"max_attempts": 1, "base_delay": 0.01}
    with django_capture_on_commit_callbacks(execute=False):
        owner_client.post(generate_url(setup), generate_form(setup))
    comparison_set = ComparisonSet.objects.get()
    fake_openai.always(ServerError(500))
    comparison_set_generation_execute(
        comparison_set_id=comparison_set.pk, concurrency=1
    )
    page = owner_client.get(set_url(setup, comparison_set)).content.decode()
    assert "Failed" in page
    assert "8 responses are still missing" in page
    assert "Resume generation" in page
    listing = owner_client.get(judging_url(setup)).content.decode()
    assert "generation failed" in listing

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(set_url(setup, comparison_set, "resume"))
    assert response.status_code == 302
    assert len(callbacks) == 1
    comparison_set.refresh_from_db()
    assert comparison_set.generation_status == "pending"


def test_bad_generation_input_is_shown_on_the_form(owner_client, setup, fake_openai):
    response = owner_client.post(
        generate_url(setup), generate_form(setup, prompts="Same?\nSame?")
    )
    assert response.status_code == 200
    assert "Prompt 2 repeats prompt 1." in response.content.decode()
    response = owner_client.post(
        generate_url(setup), generate_form(setup, principles=[])
    )
    assert "This field is required." in response.content.decode()
    assert not ComparisonSet.objects.exists()
    assert fake_openai.request_count == 0


def test_a_principle_of_another_workshop_is_not_offered_nor_accepted(
    owner_client, setup, fake_openai
):
    other = WorkshopFactory(owner=setup.workshop.owner, slug="other")
    foreign = principle_seed(workshop=other, text="Be kind.", actor=other.owner)
    page = owner_client.get(generate_url(setup)).content.decode()
    assert "Be kind." not in page
    response = owner_client.post(
        generate_url(setup),
        generate_form(setup, principles=[foreign.versions.get().pk]),
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ComparisonSet.objects.exists()


def test_outsider_cannot_generate_nor_see_a_set(outsider_client, setup, fake_openai):
    comparison_set = make_set(setup)
    assert outsider_client.get(generate_url(setup)).status_code == 404
    assert (
        outsider_client.post(generate_url(setup), generate_form(setup)).status_code
        == 404
    )
    assert outsider_client.get(set_url(setup, comparison_set)).status_code == 404
    assert (
        outsider_client.post(set_url(setup, comparison_set, "resume")).status_code
        == 404
    )
    assert ComparisonSet.objects.count() == 1
    assert fake_openai.request_count == 0


def test_a_set_page_escapes_participant_text(owner_client, setup):
    comparison_set = make_set(setup, name="<script>alert(1)</script>", items=1)
    comparison_set.prompts.update(text="<img src=x onerror=alert(2)>")
    html = owner_client.get(set_url(setup, comparison_set)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


# --- linking a set to a compare round -----------------------------------------------


def link(client, setup, comparison_set, round_) -> object:
    return client.post(
        set_url(setup, comparison_set, "round"),
        {"round": "" if round_ is None else round_.pk},
        follow=True,
    )


def test_owner_links_a_set_to_a_compare_round_and_unlinks_it(owner_client, setup):
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE)
    comparison_set = make_set(setup)
    page = owner_client.get(judging_url(setup)).content.decode()
    assert f'<option value="{round_.pk}">{round_.title}</option>' in page

    response = link(owner_client, setup, comparison_set, round_)
    assert response.status_code == 200
    comparison_set.refresh_from_db()
    assert comparison_set.round == round_
    html = response.content.decode()
    assert "now judge “pairs”" in html
    assert f'<option value="{round_.pk}" selected>' in html
    assert 'id="coverage"' in html and "Judgments per item and group" in html

    link(owner_client, setup, comparison_set, None)
    comparison_set.refresh_from_db()
    assert comparison_set.round is None


def test_a_round_that_is_not_a_compare_round_is_refused(owner_client, setup):
    vote = round_create(workshop=setup.workshop, kind=Round.Kind.VOTE)
    comparison_set = make_set(setup)
    html = link(owner_client, setup, comparison_set, vote).content.decode()
    assert "only a compare round can use a comparison set" in html
    comparison_set.refresh_from_db()
    assert comparison_set.round is None


def test_a_round_used_by_another_set_or_workshop_is_refused(owner_client, setup):
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE)
    first, second = make_set(setup, name="first"), make_set(setup, name="second")
    link(owner_client, setup, first, round_)
    html = link(owner_client, setup, second, round_).content.decode()
    assert "already uses the comparison set “first”" in html
    other = WorkshopFactory(owner=setup.workshop.owner, slug="other")
    foreign = round_create(workshop=other, kind=Round.Kind.COMPARE)
    html = link(owner_client, setup, second, foreign).content.decode()
    assert "Select a valid choice" in html
    second.refresh_from_db()
    assert second.round is None


def test_outsider_cannot_link(outsider_client, setup):
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE)
    comparison_set = make_set(setup)
    response = outsider_client.post(
        set_url(setup, comparison_set, "round"), {"round": round_.pk}
    )
    assert response.status_code == 404
    comparison_set.refresh_from_db()
    assert comparison_set.round is None
