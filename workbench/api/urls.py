"""/api/v1/: workshops at the top, everything else nested under a workshop's slug."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import URLPattern, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.viewsets import ViewSetMixin

from workbench.api import views

if TYPE_CHECKING:
    from rest_framework.decorators import ViewSetAction

    # What as_view() takes: an HTTP method's action (annotated because the stubs
    # ask for this exact, invariant dict type).
    Actions = dict[str, str | ViewSetAction[Any]]

app_name = "api"

LIST: Actions = {"get": "list"}
LIST_CREATE: Actions = {"get": "list", "post": "create"}
DETAIL: Actions = {"get": "retrieve"}


def _nested(
    name: str,
    viewset: type[ViewSetMixin],
    *,
    create: bool = False,
    detail: bool = False,
) -> list[URLPattern]:
    routes = [
        path(
            f"workshops/<slug:slug>/{name}/",
            viewset.as_view(LIST_CREATE if create else LIST),
            name=f"{name}-list",
        )
    ]
    if detail:
        routes.append(
            path(
                f"workshops/<slug:slug>/{name}/<int:pk>/",
                viewset.as_view(DETAIL),
                name=f"{name}-detail",
            )
        )
    return routes


v1 = [
    path("workshops/", views.WorkshopViewSet.as_view(LIST_CREATE), name="workshops"),
    path(
        "workshops/<slug:slug>/",
        views.WorkshopViewSet.as_view(DETAIL),
        name="workshop-detail",
    ),
    *_nested("groups", views.GroupViewSet, create=True, detail=True),
    *_nested("participants", views.ParticipantViewSet, detail=True),
    *_nested("principles", views.PrincipleViewSet, create=True, detail=True),
    *_nested("rounds", views.RoundViewSet, create=True, detail=True),
    *_nested("votes", views.VoteViewSet),
    *_nested("vote-history", views.VoteHistoryViewSet),
    *_nested("ballots", views.BallotViewSet),
    *_nested("moderation-events", views.ModerationEventViewSet),
    *_nested("constitutions", views.ConstitutionViewSet, detail=True),
    *_nested("analysis", views.AnalysisViewSet),
    *_nested("comparison-sets", views.ComparisonSetViewSet, detail=True),
    *_nested("comparison-items", views.ComparisonItemViewSet),
    *_nested("human-judgments", views.HumanJudgmentViewSet),
    *_nested("judge-configs", views.JudgeConfigViewSet),
    *_nested("runs", views.JudgeRunViewSet, create=True, detail=True),
    path(
        "workshops/<slug:slug>/runs/<int:pk>/progress/",
        views.JudgeRunViewSet.as_view({"get": "progress"}),
        name="runs-progress",
    ),
    path(
        "workshops/<slug:slug>/runs/<int:pk>/cancel/",
        views.JudgeRunViewSet.as_view({"post": "cancel"}),
        name="runs-cancel",
    ),
    *_nested("verdicts", views.VerdictViewSet),
    *_nested("encoding-gap", views.EncodingGapViewSet),
    *_nested("cards", views.CardsViewSet),
    path(
        "workshops/<slug:slug>/cards.md",
        views.CardsMarkdownViewSet.as_view(LIST),
        name="cards-markdown",
    ),
    path(
        "workshops/<slug:slug>/cards.pdf",
        views.CardsPdfViewSet.as_view(LIST),
        name="cards-pdf",
    ),
    path("schema/", SpectacularAPIView.as_view(api_version="1"), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api:schema"),
        name="docs",
    ),
]

urlpatterns = [path("v1/", include(v1))]
