"""The facilitator's whole workshop, through the browser's requests: create, invite,
seed, run rounds, moderate, watch the results, and publish a constitution."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ParticipantFactory
from workbench.accounts.models import User
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    Participant,
    ParticipantGroup,
    Principle,
    Round,
    VoteChoice,
    Workshop,
)
from workbench.deliberation.services.principles import principle_propose
from workbench.deliberation.services.votes import vote_cast

Action = ModerationEvent.Action


class _Rows(HTMLParser):
    """Collects table rows as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def tally_rows(html: str, principle_text: str) -> dict[str, list[str]]:
    """The rows under one principle in a tally table: {group label: [agree, disagree,
    pass, votes, agree share]}."""
    rows = table_rows(html)
    start = next(i for i, r in enumerate(rows) if r and r[0].startswith(principle_text))
    found: dict[str, list[str]] = {}
    for row in rows[start + 1 :]:
        if len(row) == 1:  # The next principle's heading row.
            break
        found[row[0]] = row[1:6]
    return found


def url(name: str, **kwargs) -> str:
    return reverse(f"deliberation:{name}", kwargs=kwargs)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def alice(db) -> User:
    from tests.factories import UserFactory

    return UserFactory(username="alice")


@pytest.fixture
def browser(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@dataclass
class Flow:
    """What the facilitator has built so far, passed from one step to the next."""

    browser: Client
    alice: User
    workshop: Workshop = field(init=False)
    groups: dict[str, ParticipantGroup] = field(default_factory=dict)
    principles: dict[str, Principle] = field(default_factory=dict)
    people: dict[str, Participant] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.workshop.slug

    def url(self, name: str, **kwargs) -> str:
        return url(name, slug=self.slug, **kwargs)


def create_workshop_and_groups(flow: Flow) -> None:
    response = flow.browser.post(
        url("workshop-create"),
        {
            "title": "Care values",
            "question": "What should an AI assistant in a hospital always do?",
            "strict_moderation": "on",
        },
    )
    flow.workshop = Workshop.objects.get(owner=flow.alice)
    assert response.status_code == 302
    assert response["Location"] == flow.url("workshop-detail")
    assert flow.workshop.strict_moderation
    assert not flow.workshop.show_moderation_log

    for name in ("Nurses", "Patients"):
        response = flow.browser.post(flow.url("group-create"), {"name": name})
        assert response.status_code == 302
    flow.groups = {g.name: g for g in flow.workshop.groups.all()}
    nurses = flow.groups["Nurses"]
    join_url = "http://testserver" + reverse(
        "deliberation:join", kwargs={"token": nurses.invite_token}
    )
    invite = flow.browser.get(flow.url("group-invite", pk=nurses.pk)).content.decode()
    assert join_url in invite
    assert "<svg" in invite
    room = flow.browser.get(flow.url("group-room", pk=nurses.pk)).content.decode()
    assert join_url in room


def seed_and_open_propose_round(flow: Flow) -> Round:
    nurses = flow.groups["Nurses"]
    flow.browser.post(
        flow.url("principle-seed"),
        {"text": "Choose the response that is honest about uncertainty."},
    )
    flow.browser.post(
        flow.url("principle-seed"),
        {
            "text": "Choose the response that respects shift handovers.",
            "group": nurses.pk,
        },
    )
    honest, handover = flow.workshop.principles.order_by("pk")
    assert honest.group is None and handover.group == nurses
    assert honest.status == Principle.Status.APPROVED and honest.is_seed
    flow.principles["honest"] = honest

    flow.browser.post(flow.url("round-create"), {"kind": "propose", "scope": "all"})
    propose = flow.workshop.rounds.get(kind=Round.Kind.PROPOSE)
    assert propose.status == Round.Status.DRAFT
    flow.browser.post(flow.url("round-open", pk=propose.pk))
    propose.refresh_from_db()
    assert propose.status == Round.Status.OPEN
    assert flow.workshop.moderation_events.filter(action=Action.ROUND_OPEN).exists()
    return propose


def participants_propose(flow: Flow, propose: Round) -> None:
    nurses, patients = flow.groups["Nurses"], flow.groups["Patients"]
    flow.people = {
        "nurse_1": ParticipantFactory(group=nurses),
        "nurse_2": ParticipantFactory(group=nurses),
        "patient": ParticipantFactory(group=patients),
    }
    proposals = {
        "keep": ("nurse_1", "Choose the response that protects patient dignity."),
        "spam": ("patient", "Choose the response that sells more medicine."),
        "duplicate": ("nurse_2", "Choose the response that is candid about limits."),
    }
    for key, (who, text) in proposals.items():
        flow.principles[key] = principle_propose(
            participant=flow.people[who],
            round_=propose,
            text=text,
            confirm_similar=True,
        )
    dashboard = flow.browser.get(flow.url("workshop-detail"))
    assert dashboard.context["pending_count"] == 3
    queue = flow.browser.get(flow.url("moderation-queue")).content.decode()
    assert all(text in queue for _, text in proposals.values())


def moderate(flow: Flow) -> None:
    keep, spam = flow.principles["keep"], flow.principles["spam"]
    duplicate, honest = flow.principles["duplicate"], flow.principles["honest"]
    queue_url = flow.url("moderation-queue")
    response = flow.browser.post(
        flow.url("principle-approve", pk=keep.pk), {"next": queue_url}
    )
    assert response["Location"] == queue_url
    response = flow.browser.post(
        flow.url("principle-reject", pk=spam.pk), {"reason": ""}, follow=True
    )
    assert any("Reason" in m for m in messages_of(response))
    spam.refresh_from_db()
    assert spam.status == Principle.Status.PENDING
    flow.browser.post(flow.url("principle-reject", pk=spam.pk), {"reason": "Advert."})
    flow.browser.post(
        flow.url("principle-merge", pk=duplicate.pk),
        {"target": honest.pk, "reason": "Same idea."},
    )
    flow.browser.post(
        flow.url("principle-edit", pk=keep.pk),
        {"text": "Choose the response that protects every patient's dignity."},
    )
    for principle in (keep, spam, duplicate):
        principle.refresh_from_db()
    assert keep.status == Principle.Status.APPROVED
    assert keep.text == "Choose the response that protects every patient's dignity."
    assert spam.status == Principle.Status.REJECTED
    assert duplicate.merged_into == honest
    assert "Nothing to review" in flow.browser.get(queue_url).content.decode()


def check_history_and_log(flow: Flow) -> None:
    keep = flow.principles["keep"]
    history = flow.browser.get(flow.url("principle-detail", pk=keep.pk))
    rows = table_rows(history.content.decode())
    assert [r[1] for r in rows if r[0] in ("1", "2")] == [
        "Choose the response that protects patient dignity.",
        "Choose the response that protects every patient's dignity.",
    ]
    events = list(
        flow.workshop.moderation_events.values_list("action", "actor", "reason")
    )
    alice = flow.alice.pk
    assert (Action.APPROVE, alice, "") in events
    assert (Action.REJECT, alice, "Advert.") in events
    assert (Action.MERGE, alice, "Same idea.") in events
    assert (Action.EDIT, alice, "") in events
    log = flow.browser.get(flow.url("moderation-log")).content.decode()
    for label in ("Approved", "Rejected", "Merged", "Edited wording", "Opened round"):
        assert label in log
    assert "Advert." in log


def close_propose_round(flow: Flow, propose: Round) -> None:
    flow.browser.post(flow.url("round-close", pk=propose.pk))
    propose.refresh_from_db()
    assert propose.status == Round.Status.CLOSED
    with pytest.raises(ApplicationError):
        principle_propose(
            participant=flow.people["nurse_1"], round_=propose, text="Too late."
        )


def vote_and_watch(flow: Flow) -> Round:
    flow.browser.post(flow.url("round-create"), {"kind": "vote", "scope": "all"})
    vote_round = flow.workshop.rounds.get(kind=Round.Kind.VOTE)
    flow.browser.post(flow.url("round-open", pk=vote_round.pk))
    vote_round.refresh_from_db()
    honest, keep = flow.principles["honest"], flow.principles["keep"]
    agree, disagree, pass_ = VoteChoice.AGREE, VoteChoice.DISAGREE, VoteChoice.PASS
    for who, principle, choice in [
        ("nurse_1", honest, agree),
        ("nurse_2", honest, agree),
        ("patient", honest, agree),
        ("nurse_1", keep, agree),
        ("nurse_2", keep, disagree),
        ("patient", keep, pass_),
    ]:
        vote_cast(
            participant=flow.people[who],
            round_=vote_round,
            principle=principle,
            choice=choice,
        )
    fragment = flow.browser.get(flow.url("results"), HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html
    assert 'id="live-results"' in html
    assert tally_rows(html, honest.text) == {
        "All groups": ["3", "0", "0", "3", "100.0%"],
        "Nurses": ["2", "0", "0", "2", "100.0%"],
        "Patients": ["1", "0", "0", "1", "100.0%"],
    }
    assert tally_rows(html, keep.text)["Nurses"] == ["1", "1", "0", "2", "50.0%"]
    participation = {r[0]: r[1:] for r in table_rows(html) if len(r) == 4}
    assert participation["Nurses"] == ["2", "2", "4"]
    assert participation["Patients"] == ["1", "1", "2"]
    return vote_round


def preview_and_publish(flow: Flow) -> Constitution:
    honest = flow.principles["honest"]
    params = {"rule": "ccai", "threshold": "0.7", "min_votes": "1", "title": ""}
    preview = flow.browser.get(flow.url("constitution-publish"), params)
    assert preview.status_code == 200
    assert [p.text for p in preview.context["preview"]["adopted"]] == [honest.text]
    assert not Constitution.objects.exists()
    response = flow.browser.post(flow.url("constitution-publish"), params)
    constitution = Constitution.objects.get(workshop=flow.workshop)
    assert response["Location"] == flow.url("constitution-detail", pk=constitution.pk)
    assert [p["text"] for p in constitution.principles] == [honest.text]
    assert constitution.rule == "ccai"
    assert constitution.parameters == {"threshold": 0.7, "min_votes": 1}
    assert flow.workshop.moderation_events.filter(action=Action.PUBLISH).exists()
    return constitution


def later_votes_leave_the_snapshot(
    flow: Flow, constitution: Constitution, vote_round: Round
) -> None:
    honest = flow.principles["honest"]
    detail_url = flow.url("constitution-detail", pk=constitution.pk)
    before_html = flow.browser.get(detail_url).content.decode()
    assert constitution.content_hash in before_html
    assert tally_rows(before_html, honest.text)["Patients"][:4] == ["1", "0", "0", "1"]
    stored = (constitution.principles, constitution.figures, constitution.content_hash)

    late = ParticipantFactory(group=flow.groups["Patients"])
    vote_cast(
        participant=late,
        round_=vote_round,
        principle=honest,
        choice=VoteChoice.DISAGREE,
    )
    constitution.refresh_from_db()
    assert stored == (
        constitution.principles,
        constitution.figures,
        constitution.content_hash,
    )
    after_html = flow.browser.get(detail_url).content.decode()
    assert tally_rows(after_html, honest.text) == tally_rows(before_html, honest.text)
    live = flow.browser.get(flow.url("results"), HTTP_HX_REQUEST="true")
    live_rows = tally_rows(live.content.decode(), honest.text)
    assert live_rows["Patients"][:4] == ["1", "1", "0", "2"]
    dashboard = flow.browser.get(flow.url("workshop-detail")).content.decode()
    assert constitution.title in dashboard


def test_whole_facilitator_flow(browser, alice):
    flow = Flow(browser, alice)
    create_workshop_and_groups(flow)
    propose = seed_and_open_propose_round(flow)
    participants_propose(flow, propose)
    moderate(flow)
    check_history_and_log(flow)
    close_propose_round(flow, propose)
    vote_round = vote_and_watch(flow)
    constitution = preview_and_publish(flow)
    later_votes_leave_the_snapshot(flow, constitution, vote_round)
