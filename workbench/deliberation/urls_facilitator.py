from __future__ import annotations

from django.urls import URLPattern, path

from workbench.deliberation.views import facilitator as views
from workbench.deliberation.views.facilitator.cards import (
    card_narrative,
    workshop_cards,
)
from workbench.deliberation.views.facilitator.translations import (
    principle_translate,
    principle_translation_remove,
)

W = "workshops/<slug:slug>/"

urlpatterns: list[URLPattern] = [
    path("workshops/", views.workshop_list, name="workshop-list"),
    # Before the slug pattern; the slug service never hands out "new".
    path("workshops/new/", views.workshop_create, name="workshop-create"),
    path(W, views.workshop_detail, name="workshop-detail"),
    path(W + "edit/", views.workshop_edit, name="workshop-edit"),
    # The dashboard's live panel (polled) and the room's presentation mode.
    path(W + "live/", views.workshop_live, name="workshop-live"),
    path(W + "present/", views.workshop_present, name="workshop-present"),
    # Groups and their invite links.
    path(W + "groups/new/", views.group_create, name="group-create"),
    path(W + "groups/<int:pk>/invite/", views.group_invite, name="group-invite"),
    path(W + "groups/<int:pk>/room/", views.group_room, name="group-room"),
    path(
        W + "groups/<int:pk>/regenerate-token/",
        views.group_regenerate_token,
        name="group-regenerate-token",
    ),
    # Rounds.
    path(W + "rounds/new/", views.round_create, name="round-create"),
    path(W + "rounds/<int:pk>/", views.round_detail, name="round-detail"),
    path(
        W + "rounds/<int:pk>/shortlist/", views.round_shortlist, name="round-shortlist"
    ),
    path(W + "rounds/<int:pk>/open/", views.round_open, name="round-open"),
    path(W + "rounds/<int:pk>/close/", views.round_close, name="round-close"),
    # Principles and moderation.
    path(W + "principles/", views.principle_list, name="principle-list"),
    path(W + "principles/seed/", views.principle_seed, name="principle-seed"),
    path(W + "principles/<int:pk>/", views.principle_detail, name="principle-detail"),
    path(
        W + "principles/<int:pk>/approve/",
        views.principle_approve,
        name="principle-approve",
    ),
    path(
        W + "principles/<int:pk>/reject/",
        views.principle_reject,
        name="principle-reject",
    ),
    path(
        W + "principles/<int:pk>/merge/", views.principle_merge, name="principle-merge"
    ),
    path(W + "principles/<int:pk>/edit/", views.principle_edit, name="principle-edit"),
    path(
        W + "principles/<int:pk>/translations/",
        principle_translate,
        name="principle-translate",
    ),
    path(
        W + "principles/<int:pk>/translations/remove/",
        principle_translation_remove,
        name="principle-translation-remove",
    ),
    path(W + "moderation/", views.moderation_queue, name="moderation-queue"),
    path(W + "moderation/log/", views.moderation_log, name="moderation-log"),
    # Results and constitutions.
    path(W + "results/", views.results, name="results"),
    path(W + "results/analysis/", views.results_analysis, name="results-analysis"),
    # Judging: comparison sets, judge runs and compare-round coverage.
    path(W + "judging/", views.judging, name="judging"),
    path(W + "judging/runs/<int:pk>/", views.judge_run, name="judge-run"),
    path(
        W + "judging/runs/<int:pk>/cancel/",
        views.judge_run_cancel_view,
        name="judge-run-cancel",
    ),
    path(
        W + "judging/runs/<int:pk>/resume/",
        views.judge_run_resume_view,
        name="judge-run-resume",
    ),
    # Comparison sets: generated through a provider, linked to a compare round.
    path(W + "judging/generate/", views.judging_generate, name="judging-generate"),
    path(W + "judging/sets/<int:pk>/", views.judging_set, name="judging-set"),
    path(
        W + "judging/sets/<int:pk>/resume/",
        views.judging_set_resume,
        name="judging-set-resume",
    ),
    path(
        W + "judging/sets/<int:pk>/round/",
        views.judging_set_round,
        name="judging-set-round",
    ),
    # The encoding-gap report of a run, and rewording a principle to test it again.
    path(W + "judging/report/", views.encoding_gap, name="encoding-gap"),
    path(
        W + "judging/report/principles/<int:pk>/reword/",
        views.encoding_gap_reword,
        name="encoding-gap-reword",
    ),
    path(
        W + "constitutions/new/",
        views.constitution_publish,
        name="constitution-publish",
    ),
    path(
        W + "constitutions/<int:pk>/",
        views.constitution_detail,
        name="constitution-detail",
    ),
    path(W + "rule-commitment/", views.constitutions.rule_commit, name="rule-commit"),
    # Value cards: the narrative and the review rounds' outcome per card.
    path(W + "cards/", workshop_cards, name="cards"),
    path(W + "cards/narrative/", card_narrative, name="card-narrative"),
]
