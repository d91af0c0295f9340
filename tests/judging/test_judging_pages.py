"""The facilitator's judging pages, through HTTP: comparison sets, starting an
offline run, its live progress, cancel and resume, compare-round coverage, the
outsider's 404 and escaping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ParticipantFactory, WorkshopFactory
from tests.judging.judging_fixtures import make_offline_run, make_set
from workbench.deliberation.models import Round
from workbench.deliberation.services.rounds import round_create
from workbench.judging.models import HumanJudgment, JudgeRun, RunStatus
from workbench.judging.services.runs import judge_run_execute

HTMX = {"HTTP_HX_REQUEST": "true"}


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


def test_a_provider_without_default_needs_a_model(owner_client, setup):
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
