"""The permission matrix, generated from the URL conf: every URL pattern the project
serves has a rule here (a new one without a rule fails `test_every_url_has_a_rule`),
and every rule is checked for seven actors, GET and POST:

- anonymous;
- a participant of another group of the same workshop (a Teacher);
- the right participant (a Nurse), in a closed round of their group;
- a participant of another workshop;
- another facilitator (charlie);
- the owner (alice);
- the right participant, in an open round of their group.

Conventions the app follows (and the other walkers check too): a facilitator page
sends anyone not logged in to log in, and answers another facilitator 404, so a
workshop's existence is not revealed; the API answers 401 and 404; a participant page
answers a browser that has not joined the workshop 403 ("use your invite link") and a
round that is not the participant's 404. A closed round's page may be read (it says
the round is closed) but nothing posted to it is stored. Every refused request is
checked against a digest of every table: it changed nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.deliberation.test_facilitator_permissions import POST_ONLY
from tests.deliberation.test_facilitator_permissions import (
    post_data as facilitator_post_data,
)
from tests.security.conftest import ACTORS, Hostile, changed_tables, snapshot
from workbench.api.services import api_token_create
from workbench.deliberation.models import Round, VoteChoice
from workbench.deliberation.services.rounds import round_create
from workbench.judging.models import ComparisonItem
from workbench.judging.services.compare import compare_shown_order

# Who may use a URL.
FACILITATOR = "facilitator"  # the workshop's owner only
OWN = "own"  # any facilitator, on their own things (lists, create)
API = "api"  # the owner only, through the API
API_OWN = "api-own"  # any facilitator, through the API, their own things
PARTICIPANT_WORKSHOP = "participant-workshop"  # any participant of the workshop
PARTICIPANT_ROUND = "participant-round"  # a participant whose group the round is for
PUBLIC = "public"
STAFF = "staff"  # the admin site


@dataclass(frozen=True)
class Rule:
    audience: str
    post: bool = False  # the URL accepts a POST that changes something


def _facilitator_rules() -> dict[str, Rule]:
    from workbench.deliberation.urls_facilitator import urlpatterns

    rules = {}
    for pattern in urlpatterns:
        name = f"deliberation:{pattern.name}"
        audience = OWN if pattern.name in {"workshop-list", "workshop-create"} else None
        rules[name] = Rule(audience or FACILITATOR, post=True)
    return rules


PARTICIPANT_ROUND_KINDS = {
    "deliberation:participant-propose": Round.Kind.PROPOSE,
    "deliberation:participant-vote": Round.Kind.VOTE,
    "deliberation:participant-vote-list": Round.Kind.VOTE,
    "deliberation:participant-rank": Round.Kind.RANK,
    "deliberation:participant-compare": Round.Kind.COMPARE,
    "deliberation:participant-review": Round.Kind.REVIEW,
    "deliberation:participant-round-status": Round.Kind.VOTE,
}

RULES: dict[str, Rule] = {
    # Public: the front page, the health check, language, accounts, API docs, joining.
    "home": Rule(PUBLIC),
    "healthz": Rule(PUBLIC),
    "set_language": Rule(PUBLIC),
    "accounts:login": Rule(PUBLIC),
    "accounts:logout": Rule(PUBLIC),
    "accounts:signup": Rule(PUBLIC),
    "api:schema": Rule(PUBLIC),
    "api:docs": Rule(PUBLIC),
    "deliberation:join": Rule(PUBLIC),
    # The facilitator's own API tokens.
    "api_tokens:list": Rule(OWN, post=True),
    "api_tokens:revoke": Rule(FACILITATOR, post=True),
    # Value-card downloads.
    "cards:cards-pdf": Rule(FACILITATOR),
    "cards:cards-json": Rule(FACILITATOR),
    "cards:cards-md": Rule(FACILITATOR),
    # Participant pages.
    "deliberation:participant-home": Rule(PARTICIPANT_WORKSHOP),
    "deliberation:participant-log": Rule(PARTICIPANT_WORKSHOP),
    "deliberation:participant-map": Rule(PARTICIPANT_WORKSHOP),
    "deliberation:participant-status": Rule(PARTICIPANT_WORKSHOP),
    **{
        name: Rule(PARTICIPANT_ROUND, post=not name.endswith("status"))
        for name in PARTICIPANT_ROUND_KINDS
    },
    **_facilitator_rules(),
}

# The API's rules come from its views: every route but the docs is the owner's, and
# the ones whose view maps "post" take a POST.
API_PKS = {
    "groups-detail": "group",
    "participants-detail": "participant",
    "principles-detail": "principle",
    "rounds-detail": "round",
    "constitutions-detail": "constitution",
    "comparison-sets-detail": "comparison_set",
    "runs-detail": "run",
    "runs-progress": "run",
    "runs-cancel": "run",
}
API_POST_DATA: dict[str, dict[str, Any]] = {
    "api:workshops": {"title": "Stolen", "question": "Why?"},
    "api:groups-list": {"name": "Intruders"},
    "api:principles-list": {"text": "Choose whatever the intruder wants."},
    "api:rounds-list": {"kind": "vote"},
    "api:runs-list": {"provider": "offline"},
    "api:runs-cancel": {},
}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: URLPattern


def walk_urls() -> Iterator[Route]:
    """Every URL pattern of the project, with its namespaced name."""

    def visit(patterns: list[Any], namespace: str) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                joined = f"{namespace}:{inner}" if namespace and inner else inner
                yield from visit(pattern.url_patterns, joined or namespace)
            else:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield Route(str(name), pattern)

    yield from visit(get_resolver().url_patterns, "")


def rule_for(route: Route) -> Rule | None:
    if route.name.startswith("admin:"):
        return Rule(STAFF)
    if route.name.startswith("api:") and route.name not in RULES:
        actions = getattr(route.pattern.callback, "actions", {})
        audience = API_OWN if route.name == "api:workshops" else API
        return Rule(audience, post="post" in actions)
    return RULES.get(route.name)


ROUTES = [r for r in walk_urls() if not r.name.startswith("admin:")]
ADMIN_ROUTES = [r for r in walk_urls() if r.name.startswith("admin:")]


def test_every_url_has_a_rule():
    missing = sorted(r.name for r in walk_urls() if rule_for(r) is None)
    assert not missing, f"URL patterns with no permission rule: {missing}"
    served = {r.name for r in ROUTES}
    stale = sorted(set(RULES) - served)
    assert not stale, f"rules for URLs that no longer exist: {stale}"
    assert len({r.name for r in ROUTES}) == len(ROUTES), "a URL name is used twice"


# --- building the request for each actor -----------------------------------------


def _pk(name: str, world: Hostile, token_pk: int) -> int:
    short = name.split(":", 1)[1]
    if name.startswith("api:"):
        what = API_PKS[short]
        return int(
            {
                "group": world.right.group_id,
                "participant": world.other_group.pk,
                "principle": world.seeds[0].pk,
                "round": world.open_rounds[Round.Kind.VOTE].pk,
                "constitution": world.constitution.pk,
                "comparison_set": world.run.comparison_set_id,
                "run": world.run.pk,
            }[what]
        )
    if name == "api_tokens:revoke":
        return token_pk
    by_prefix = {
        "group": world.right.group_id,
        "round": world.draft.pk,
        "principle": world.pending.pk,
        "encoding": world.seeds[0].pk,
        "judge": world.run.pk,
        "judging": world.generated.pk,
        "constitution": world.constitution.pk,
    }
    return int(by_prefix[short.split("-", 1)[0]])


def _round_for(name: str, world: Hostile, actor: str) -> Round:
    rounds = world.closed_rounds if actor == "closed_round" else world.open_rounds
    return rounds[PARTICIPANT_ROUND_KINDS[name]]


def url_for(route: Route, world: Hostile, actor: str, token_pk: int) -> str:
    converters = route.pattern.pattern.converters
    kwargs: dict[str, Any] = {}
    if "slug" in converters:
        kwargs["slug"] = world.slug
    if "token" in converters:
        kwargs["token"] = world.workshop.groups.get(
            pk=world.right.group_id
        ).invite_token
    if "pk" in converters:
        if route.name in PARTICIPANT_ROUND_KINDS:
            kwargs["pk"] = _round_for(route.name, world, actor).pk
        else:
            kwargs["pk"] = _pk(route.name, world, token_pk)
    return reverse(route.name, kwargs=kwargs)


def participant_post_data(name: str, round_: Round, world: Hostile) -> dict[str, Any]:
    """Valid input for the right participant, so a refusal is the permission check."""
    seeds = world.seeds
    if name.endswith("propose"):
        return {"text": "Choose the response that names its sources plainly."}
    if name.endswith("vote") or name.endswith("vote-list"):
        return {
            "principle": seeds[1].pk,
            "choice": int(VoteChoice.DISAGREE),
            "client_token": str(uuid.uuid4()),
        }
    if name.endswith("rank"):
        return {"ranking": [seeds[1].pk, seeds[0].pk]}
    if name.endswith("compare"):
        item = ComparisonItem.objects.filter(comparison_set__round=round_).first()
        assert item is not None
        return {
            "item": item.pk,
            "choice": "1",
            "reason": "",
            "shown_order": compare_shown_order(
                participant=world.right, item_id=item.pk
            ),
        }
    if name.endswith("review"):
        return {"principle": seeds[0].pk, "verdict": "endorse", "comment": "Fine."}
    raise AssertionError(f"no POST data for {name}")


def post_data_for(route: Route, world: Hostile, actor: str) -> dict[str, Any]:
    if route.name in PARTICIPANT_ROUND_KINDS and not route.name.endswith("status"):
        return participant_post_data(
            route.name, _round_for(route.name, world, actor), world
        )
    if route.name.startswith("api:"):
        data = dict(API_POST_DATA.get(route.name, {}))
        if route.name == "api:runs-list":
            data["comparison_set"] = world.run.comparison_set_id
        return data
    if route.name == "api_tokens:list":
        return {"name": "intruder"}
    if route.name.startswith("deliberation:"):
        legacy = {
            "compare_round": world.compare_round.pk,
            "judge_set": world.run.comparison_set_id,
            "merge_target": world.seeds[1].pk,
            "translation": world.translation_id,
        }
        return facilitator_post_data(route.name.split(":", 1)[1], legacy)
    return {}


# --- what each actor must get ----------------------------------------------------

PARTICIPANTS = {"other_group", "closed_round", "other_workshop", "right_participant"}
NOT_LOGGED_IN = {"anonymous"} | PARTICIPANTS


def login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse(settings.LOGIN_URL)
    )


@dataclass
class Outcome:
    ok: bool
    refused: bool  # the DB must not have changed


def _facilitator(rule: Rule, short: str, actor: str, method: str, r: Any) -> Outcome:
    status = r.status_code
    action = short in POST_ONLY | {"revoke"}
    if actor in NOT_LOGGED_IN:
        return Outcome(login_redirect(r), True)
    if actor == "other_facilitator" and rule.audience == FACILITATOR:
        if method == "get":
            return Outcome(status == (405 if action else 404), True)
        # A GET-only download answers a POST 405 before it looks anything up.
        return Outcome(status in (404, 405), True)
    # The owner, or any facilitator on their own lists.
    if method == "get":
        return Outcome(status == 405 if action else status in (200, 302), False)
    return Outcome(status in (200, 302), False)


def _api(rule: Rule, short: str, actor: str, method: str, r: Any) -> Outcome:
    if actor in NOT_LOGGED_IN:
        return Outcome(r.status_code == 401, True)
    if actor == "other_facilitator" and rule.audience == API:
        return Outcome(r.status_code == 404, True)
    return Outcome(r.status_code in (200, 201), False)


OUTSIDERS = {"anonymous", "other_workshop", "owner", "other_facilitator"}


def _participant_workshop(
    rule: Rule, short: str, actor: str, method: str, r: Any
) -> Outcome:
    # Any participant of the workshop reads these; nobody else.
    return Outcome(r.status_code == (403 if actor in OUTSIDERS else 200), True)


def _participant_round(
    rule: Rule, short: str, actor: str, method: str, r: Any
) -> Outcome:
    status = r.status_code
    if actor in OUTSIDERS:
        return Outcome(status == 403, True)
    if actor == "other_group":
        return Outcome(status == 404, True)
    if actor == "closed_round":
        # The page says the round is closed; a POST is answered with that message.
        return Outcome(status in ((200,) if method == "get" else (303, 400)), True)
    return Outcome(status == (200 if method == "get" else 303), False)


JUDGES = {
    FACILITATOR: _facilitator,
    OWN: _facilitator,
    API: _api,
    API_OWN: _api,
    PARTICIPANT_WORKSHOP: _participant_workshop,
    PARTICIPANT_ROUND: _participant_round,
}


def judge(rule: Rule, route: Route, actor: str, method: str, response: Any) -> Outcome:
    """Whether the response is the one this actor must get."""
    short = route.name.split(":", 1)[-1]
    return JUDGES[rule.audience](rule, short, actor, method, response)


def methods_for(route: Route, rule: Rule, actor: str, world: Hostile) -> list[str]:
    """GET, and POST where the URL takes one. Refused actors POST to every page
    (a refusal must not depend on the method); the owner only where it acts."""
    if route.name.startswith("api:"):
        actions = getattr(route.pattern.callback, "actions", {})
        return [m for m in ("get", "post") if m in actions]
    if rule.audience in (PARTICIPANT_WORKSHOP, PARTICIPANT_ROUND) and not rule.post:
        return ["get"]
    acts = actor == "owner" or (actor == "other_facilitator" and rule.audience == OWN)
    if acts and rule.audience in (FACILITATOR, OWN):
        short = route.name.split(":", 1)[1]
        takes_post = (
            short in POST_ONLY
            or route.name.startswith("api_tokens:")
            or bool(post_data_for(route, world, actor))
        )
        return ["get", "post"] if takes_post else ["get"]
    return ["get", "post"]


MATRIX_ROUTES = [r for r in ROUTES if rule_for(r) != Rule(PUBLIC)]


@pytest.mark.parametrize("route", MATRIX_ROUTES, ids=lambda r: r.name)
def test_permission_matrix(route: Route, hostile: Hostile) -> None:
    rule = rule_for(route)
    assert rule is not None
    token, _ = api_token_create(user=hostile.owner, name="alice's laptop")
    failures: list[str] = []
    # The owner and the right participant go last: their requests change things.
    for actor in ACTORS:
        client: Client = hostile.clients[actor]
        url = url_for(route, hostile, actor, token.pk)
        for method in methods_for(route, rule, actor, hostile):
            before = snapshot()
            if method == "get":
                response = client.get(url)
            else:
                data = post_data_for(route, hostile, actor)
                if route.name.startswith("api:"):
                    response = client.post(url, data, content_type="application/json")
                else:
                    response = client.post(url, data)
            outcome = judge(rule, route, actor, method, response)
            after = snapshot()
            if not outcome.ok:
                failures.append(
                    f"{actor} {method.upper()} {url}: {response.status_code}"
                )
            if outcome.refused and before != after:
                failures.append(
                    f"{actor} {method.upper()} {url} changed "
                    f"{changed_tables(before, after)}"
                )
            if (
                method == "post"
                and not outcome.refused
                and rule.audience == PARTICIPANT_ROUND
                and before == after
            ):
                failures.append(f"{actor} POST {url} stored nothing")
    assert not failures, "\n".join(failures)


PUBLIC_ROUTES = [r for r in ROUTES if rule_for(r) == Rule(PUBLIC)]


def test_public_urls_change_nothing(hostile: Hostile) -> None:
    """The public pages answer everyone without an error, and a GET stores nothing
    (joining needs a POST)."""
    token, _ = api_token_create(user=hostile.owner, name="laptop")
    assert len(PUBLIC_ROUTES) == 9
    for route in PUBLIC_ROUTES:
        for actor in ACTORS:
            before = snapshot()
            url = url_for(route, hostile, actor, token.pk)
            response = hostile.clients[actor].get(url)
            assert response.status_code in (200, 302, 303, 405), (actor, url)
            assert snapshot() == before, (actor, url)


def test_admin_is_for_staff_only(hostile: Hostile) -> None:
    """Every admin page that takes no argument sends every actor here, the owner
    included (facilitators are not staff), to the admin's login."""
    pages = []
    for route in ADMIN_ROUTES:
        if route.pattern.pattern.converters or "(?P" in str(route.pattern.pattern):
            continue
        if route.name in ("admin:login", "admin:logout"):
            continue
        pages.append(reverse(route.name))
    assert len(pages) >= 10
    login = reverse("admin:login")
    for url in pages:
        for actor in ACTORS:
            response = hostile.clients[actor].get(url)
            assert response.status_code == 302, (actor, url)
            assert response["Location"].startswith(login), (actor, url)


def test_other_workshops_are_indistinguishable_from_missing_ones(
    hostile: Hostile,
) -> None:
    """Another facilitator gets the same answer for alice's workshop as for a slug
    that does not exist, page by page and endpoint by endpoint."""
    token, _ = api_token_create(user=hostile.owner, name="laptop")
    client = hostile.clients["other_facilitator"]
    checked = 0
    for route in ROUTES:
        rule = rule_for(route)
        if rule is None or rule.audience not in (FACILITATOR, API):
            continue
        if "slug" not in route.pattern.pattern.converters:
            continue
        url = url_for(route, hostile, "other_facilitator", token.pk)
        missing = url.replace(f"/{hostile.slug}/", "/no-such-workshop/", 1)
        missing = missing.replace(f"/{hostile.slug}.", "/no-such-workshop.", 1)
        assert missing != url
        real, fake = client.get(url), client.get(missing)
        assert real.status_code == fake.status_code, url
        if route.name.startswith("api:"):
            assert real.json() == fake.json(), url
        checked += 1
    assert checked >= 70


def test_draft_rounds_are_nobodys(hostile: Hostile) -> None:
    """A round the facilitator has not opened is a 404 even to its own group."""
    draft = round_create(
        workshop=hostile.workshop,
        kind=Round.Kind.VOTE,
        scope=Round.Scope.GROUP,
        group=hostile.right.group,
    )
    client = hostile.clients["right_participant"]
    for name in (
        "participant-vote",
        "participant-vote-list",
        "participant-round-status",
    ):
        url = reverse(
            f"deliberation:{name}", kwargs={"slug": hostile.slug, "pk": draft.pk}
        )
        assert client.get(url).status_code == 404
    before = snapshot()
    url = reverse(
        "deliberation:participant-vote", kwargs={"slug": hostile.slug, "pk": draft.pk}
    )
    client.post(url, participant_post_data("participant-vote", draft, hostile))
    assert snapshot() == before
