from __future__ import annotations

from django.urls import URLPattern, path

from workbench.deliberation.views import participant as views
from workbench.deliberation.views.participant.compare import compare
from workbench.deliberation.views.participant.live import (
    participant_round_status,
    participant_status,
)
from workbench.deliberation.views.participant.review import review

urlpatterns: list[URLPattern] = [
    path("join/<str:token>/", views.join, name="join"),
    path("w/<slug:slug>/", views.participant_home, name="participant-home"),
    path("w/<slug:slug>/log/", views.moderation_log, name="participant-log"),
    path("w/<slug:slug>/map/", views.participant_map, name="participant-map"),
    # Polled by the open pages: the home page's activities, a round's state.
    path("w/<slug:slug>/status/", participant_status, name="participant-status"),
    path(
        "w/<slug:slug>/rounds/<int:pk>/status/",
        participant_round_status,
        name="participant-round-status",
    ),
    path(
        "w/<slug:slug>/rounds/<int:pk>/propose/",
        views.propose,
        name="participant-propose",
    ),
    path("w/<slug:slug>/rounds/<int:pk>/vote/", views.vote, name="participant-vote"),
    path(
        "w/<slug:slug>/rounds/<int:pk>/list/",
        views.vote_list,
        name="participant-vote-list",
    ),
    path("w/<slug:slug>/rounds/<int:pk>/rank/", views.rank, name="participant-rank"),
    path(
        "w/<slug:slug>/rounds/<int:pk>/compare/",
        compare,
        name="participant-compare",
    ),
    path(
        "w/<slug:slug>/rounds/<int:pk>/review/",
        review,
        name="participant-review",
    ),
]
