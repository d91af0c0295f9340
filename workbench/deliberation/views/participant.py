"""Participant pages. Placeholder views; the participant UI fills this module."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def join(request: HttpRequest, token: str) -> HttpResponse:
    raise NotImplementedError


def participant_home(request: HttpRequest, slug: str) -> HttpResponse:
    raise NotImplementedError
