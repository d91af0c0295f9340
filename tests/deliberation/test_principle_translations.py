"""Facilitator-written translations of principles (issue 6, "Languages").

A translation is of one wording; participants reading the workbench in its language
see it, marked, with the original a click away; a reword makes it outdated; votes
count toward the principle whatever language it was read in."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from tests.api.conftest import token_client
from tests.conftest import participant_client
from tests.judging.judging_fixtures import make_set
from workbench.cards.schema import validate_card
from workbench.cards.services.build import card_for_principle
from workbench.core.errors import ApplicationError, PermissionDeniedError
from workbench.deliberation.models import (
    ModerationEvent,
    PrincipleTranslation,
    Round,
    Vote,
    VoteChoice,
    VoteRecord,
)
from workbench.deliberation.selectors.translations import (
    translation_language,
    translations_for_principles,
)
from workbench.deliberation.services.principles import principle_edit
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.translations import (
    translation_remove,
    translation_save,
)
from workbench.deliberation.services.votes import vote_cast

SPANISH = "Elige la respuesta que sea más honesta sobre su incertidumbre."
GERMAN = "Wähle die Antwort, die am ehrlichsten mit ihrer Unsicherheit umgeht."
# The "Translated by the facilitator" note (its words are in the page's language).
MARKER = 'class="translation-note'
ORIGINAL = 'class="translation-original'


def in_language(client, language: str):
    """The participant's browser with `language` chosen (the switcher's cookie)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def vote_url(round_) -> str:
    return reverse("deliberation:participant-vote", args=["ai-values", round_.pk])


@pytest.fixture
def spanish(setup, owner) -> PrincipleTranslation:
    return translation_save(
        principle=setup.seeds[0], language="es", text=SPANISH, actor=owner
    )


@pytest.fixture
def only_first(setup, owner) -> Round:
    """An open vote round whose agenda is the translated principle alone."""
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.VOTE)
    round_set_shortlist(round_=round_, principles=[setup.seeds[0]])
    return round_open(round_=round_, actor=owner)


# The service ---------------------------------------------------------------------


def test_saving_a_translation_ties_it_to_the_current_wording_and_logs_it(
    setup, owner, spanish
):
    principle = setup.seeds[0]
    assert spanish.version == principle.versions.get(number=1)
    assert spanish.language == "es"
    assert spanish.text == SPANISH
    assert spanish.translated_by == owner
    event = ModerationEvent.objects.get(action=ModerationEvent.Action.TRANSLATE)
    assert event.principle == principle
    assert event.actor == owner
    assert event.data == {"language": "es", "version": 1, "text": SPANISH}


def test_saving_again_replaces_the_text_and_the_same_text_is_a_no_op(
    setup, owner, spanish
):
    principle = setup.seeds[0]
    changed = translation_save(
        principle=principle, language="es", text="  Elige   otra cosa. ", actor=owner
    )
    assert changed.pk == spanish.pk
    assert PrincipleTranslation.objects.get().text == "Elige otra cosa."
    translation_save(
        principle=principle, language="es", text="Elige otra cosa.", actor=owner
    )
    actions = ModerationEvent.objects.filter(principle=principle).values_list(
        "action", flat=True
    )
    assert list(actions).count(ModerationEvent.Action.TRANSLATE) == 2


@pytest.mark.parametrize(
    ("language", "text"),
    [("xx", SPANISH), ("", SPANISH), ("es", "   "), ("es", "x" * 561)],
)
def test_a_language_outside_settings_or_an_empty_or_long_text_is_refused(
    setup, owner, language, text
):
    with pytest.raises(ApplicationError):
        translation_save(
            principle=setup.seeds[0], language=language, text=text, actor=owner
        )
    assert not PrincipleTranslation.objects.exists()


def test_the_languages_are_those_of_settings(settings, setup, owner):
    settings.LANGUAGES = [("en", "English"), ("fr", "Français")]
    translation_save(
        principle=setup.seeds[0], language="fr", text="Choisis…", actor=owner
    )
    with pytest.raises(ApplicationError):
        translation_save(principle=setup.seeds[0], language="es", text="E", actor=owner)
    assert translation_language("fr-CA") == "fr"
    assert translation_language("es") == ""


def test_another_facilitator_cannot_translate_or_remove(
    setup, outsider, spanish, outsider_client
):
    with pytest.raises(PermissionDeniedError):
        translation_save(
            principle=setup.seeds[0], language="de", text=GERMAN, actor=outsider
        )
    with pytest.raises(PermissionDeniedError):
        translation_remove(
            principle=setup.seeds[0], translation_id=spanish.pk, actor=outsider
        )
    url = reverse(
        "deliberation:principle-translate", args=["ai-values", setup.seeds[0].pk]
    )
    response = outsider_client.post(url, {"language": "de", "text": GERMAN})
    assert response.status_code == 404
    assert list(PrincipleTranslation.objects.values_list("language", flat=True)) == [
        "es"
    ]


def test_removing_logs_and_a_translation_of_another_principle_is_refused(
    setup, owner, spanish
):
    with pytest.raises(ApplicationError):
        translation_remove(
            principle=setup.seeds[1], translation_id=spanish.pk, actor=owner
        )
    translation_remove(principle=setup.seeds[0], translation_id=spanish.pk, actor=owner)
    assert not PrincipleTranslation.objects.exists()
    event = ModerationEvent.objects.get(action=ModerationEvent.Action.UNTRANSLATE)
    assert event.data["language"] == "es"


# The facilitator's page ----------------------------------------------------------


def test_the_facilitator_adds_edits_and_removes_translations_on_the_principle_page(
    setup, owner_client
):
    principle = setup.seeds[0]
    detail = reverse("deliberation:principle-detail", args=["ai-values", principle.pk])
    translate = reverse(
        "deliberation:principle-translate", args=["ai-values", principle.pk]
    )
    page = owner_client.get(detail).content.decode()
    assert 'id="translations-heading"' in page
    assert 'name="language"' in page
    for code, name in settings.LANGUAGES:
        assert f'<option value="{code}">{name}</option>' in page

    response = owner_client.post(translate, {"language": "de", "text": GERMAN})
    assert response.status_code == 302
    page = owner_client.get(detail).content.decode()
    assert f'<td lang="de" dir="auto">{GERMAN}</td>' in page
    assert "Outdated" not in page
    log = owner_client.get(
        reverse("deliberation:moderation-log", args=["ai-values"])
    ).content.decode()
    assert "Translated" in log
    assert "de · version 1" in log

    owner_client.post(translate, {"language": "de", "text": GERMAN + " Immer."})
    assert PrincipleTranslation.objects.get().text == GERMAN + " Immer."

    remove = reverse(
        "deliberation:principle-translation-remove", args=["ai-values", principle.pk]
    )
    owner_client.post(remove, {"translation": PrincipleTranslation.objects.get().pk})
    assert not PrincipleTranslation.objects.exists()


def test_a_bad_language_is_reported_and_nothing_is_saved(setup, owner_client):
    principle = setup.seeds[0]
    translate = reverse(
        "deliberation:principle-translate", args=["ai-values", principle.pk]
    )
    response = owner_client.post(
        translate, {"language": "xx", "text": "Hola"}, follow=True
    )
    assert response.status_code == 200
    assert "Language:" in response.content.decode()
    assert not PrincipleTranslation.objects.exists()


# What participants see -----------------------------------------------------------


def test_a_spanish_participant_sees_the_translation_an_english_one_the_original(
    setup, spanish, only_first, participant_a, participant_b
):
    original = setup.seeds[0].text
    spanish_page = in_language(participant_client(participant_a), "es").get(
        vote_url(only_first)
    )
    html = spanish_page.content.decode()
    assert spanish_page.status_code == 200
    assert (
        f'<p class="principle-text" dir="auto" id="principle-{setup.seeds[0].pk}" '
        f'lang="es">{SPANISH}</p>'
    ) in html
    assert MARKER in html
    assert f"<details {ORIGINAL}" in html
    assert f'<p dir="auto">{original}</p></details>' in html  # one click away
    assert '<input type="hidden" name="shown_language" value="es">' in html

    english = in_language(participant_client(participant_b), "en").get(
        vote_url(only_first)
    )
    html = english.content.decode()
    assert original in html
    assert SPANISH not in html
    assert MARKER not in html
    assert 'name="shown_language"' not in html


def test_a_german_participant_without_a_german_translation_sees_the_original(
    setup, spanish, only_first, participant_a
):
    html = (
        in_language(participant_client(participant_a), "de")
        .get(vote_url(only_first))
        .content.decode()
    )
    assert setup.seeds[0].text in html
    assert SPANISH not in html


def test_the_vote_list_rank_review_and_log_pages_show_the_translation(
    setup, owner, spanish, only_first, participant_a
):
    setup.workshop.show_moderation_log = True
    setup.workshop.save()
    rank = round_create(workshop=setup.workshop, kind=Round.Kind.RANK)
    round_set_shortlist(round_=rank, principles=setup.seeds[:2])
    round_open(round_=rank, actor=owner)
    review = round_create(workshop=setup.workshop, kind=Round.Kind.REVIEW)
    round_set_shortlist(round_=review, principles=setup.seeds[:2])
    round_open(round_=review, actor=owner)
    client = in_language(participant_client(participant_a), "es")
    urls = [
        reverse(
            "deliberation:participant-vote-list", args=["ai-values", only_first.pk]
        ),
        reverse("deliberation:participant-rank", args=["ai-values", rank.pk]),
        reverse("deliberation:participant-review", args=["ai-values", review.pk]),
        reverse("deliberation:participant-log", args=["ai-values"]),
    ]
    for url in urls:
        html = client.get(url).content.decode()
        assert f'lang="es">{SPANISH}</' in html, url
        assert MARKER in html, url
        # On the shortlists, the untranslated principle keeps its original wording.
        if "/rank/" in url or "/review/" in url:
            assert escape(setup.seeds[1].text) in html, url
            assert html.count(MARKER) == 1, url


def test_the_compare_page_shows_the_translation_of_the_items_wording(
    setup, owner, spanish, participant_a
):
    comparison_set = make_set(setup)
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE)
    comparison_set.round = round_
    comparison_set.save(update_fields=["round"])
    round_open(round_=round_, actor=owner)
    url = reverse("deliberation:participant-compare", args=["ai-values", round_.pk])
    html = (
        in_language(participant_client(participant_a), "es").get(url).content.decode()
    )
    assert f'id="compare-principle" lang="es">{SPANISH}</p>' in html
    assert MARKER in html


def test_a_reword_makes_the_translation_outdated(
    setup, owner, owner_client, spanish, only_first, participant_a
):
    principle = principle_edit(
        principle=setup.seeds[0],
        text="Choose the response that is candid about what it does not know.",
        actor=owner,
    )
    assert (
        translations_for_principles(principle_ids=[principle.pk], language="es") == {}
    )
    html = (
        in_language(participant_client(participant_a), "es")
        .get(vote_url(only_first))
        .content.decode()
    )
    assert principle.text in html
    assert SPANISH not in html
    assert MARKER not in html
    detail = owner_client.get(
        reverse("deliberation:principle-detail", args=["ai-values", principle.pk])
    ).content.decode()
    assert "Outdated: the wording has changed" in detail
    # Translating the new wording brings a translation back, of version 2.
    fresh = translation_save(
        principle=principle, language="es", text="Elige la más franca.", actor=owner
    )
    assert fresh.version.number == 2
    found = translations_for_principles(principle_ids=[principle.pk], language="es")
    assert found[principle.pk].pk == fresh.pk


def test_a_vote_on_the_translated_wording_counts_toward_the_same_principle(
    setup, spanish, only_first, participant_a, participant_b
):
    principle = setup.seeds[0]
    spanish_client = in_language(participant_client(participant_a), "es")
    response = spanish_client.post(
        vote_url(only_first),
        {"principle": principle.pk, "choice": 1, "shown_language": "es"},
    )
    assert response.status_code == 303
    english_client = in_language(participant_client(participant_b), "en")
    english_client.post(vote_url(only_first), {"principle": principle.pk, "choice": 1})

    votes = Vote.objects.filter(principle=principle, choice=VoteChoice.AGREE)
    assert {v.participant_id for v in votes} == {participant_a.pk, participant_b.pk}
    records = dict(
        VoteRecord.objects.filter(principle=principle).values_list(
            "participant_id", "shown_language"
        )
    )
    assert records == {participant_a.pk: "es", participant_b.pk: ""}


def test_a_tampered_shown_language_is_stored_as_the_original(
    setup, only_first, participant_a
):
    vote = vote_cast(
        participant=participant_a,
        round_=only_first,
        principle=setup.seeds[0],
        choice=VoteChoice.DISAGREE,
        shown_language="<script>",
    )
    assert vote.principle_id == setup.seeds[0].pk
    assert VoteRecord.objects.get().shown_language == ""


def test_translation_text_is_escaped_for_participants_and_facilitators(
    setup, owner, owner_client, only_first, participant_a
):
    evil = "<script>alert(1)</script> <b>Elige</b>"
    translation_save(principle=setup.seeds[0], language="es", text=evil, actor=owner)
    html = (
        in_language(participant_client(participant_a), "es")
        .get(vote_url(only_first))
        .content.decode()
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;Elige&lt;/b&gt;" in html
    assert "<script>alert" not in html
    assert "<b>Elige" not in html
    detail = owner_client.get(
        reverse("deliberation:principle-detail", args=["ai-values", setup.seeds[0].pk])
    ).content.decode()
    assert "&lt;script&gt;alert(1)" in detail
    assert "<script>alert" not in detail


# Cards and the API ---------------------------------------------------------------


def test_the_value_card_lists_translations_and_still_validates(setup, owner, spanish):
    card = card_for_principle(principle=setup.seeds[0])
    validate_card(card)
    assert card["criteria"]["translations"] == [
        {
            "language": "es",
            "text": SPANISH,
            "version": 1,
            "current": True,
            "updated_at": spanish.updated_at.isoformat(),
        }
    ]
    principle_edit(principle=setup.seeds[0], text="Choose the candid one.", actor=owner)
    card = card_for_principle(principle=setup.seeds[0])
    validate_card(card)
    assert card["criteria"]["translations"][0]["current"] is False


def test_the_api_shows_translations_under_the_wording_they_translate(
    setup, owner, spanish
):
    url = f"/api/v1/workshops/ai-values/principles/{setup.seeds[0].pk}/"
    response = token_client(owner).get(url)
    assert response.status_code == 200, response.content
    versions = response.json()["versions"]
    assert versions[0]["translations"][0]["language"] == "es"
    assert versions[0]["translations"][0]["text"] == SPANISH
