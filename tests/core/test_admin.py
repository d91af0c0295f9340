"""Every model has a working admin; append-only records are read-only there."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import UserFactory
from workbench.deliberation.models import ModerationEvent, Vote

WORKBENCH_APPS = {"accounts", "deliberation", "judging", "cards"}


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_every_workbench_model_is_registered():
    models = [m for m in apps.get_models() if m._meta.app_label in WORKBENCH_APPS]
    missing = [m.__name__ for m in models if not admin.site.is_registered(m)]
    assert missing == []


def test_every_admin_changelist_opens(admin_client, setup, vote_round, participant_a):
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, url


@pytest.mark.parametrize("model", [ModerationEvent, Vote])
def test_append_only_records_cannot_be_changed_in_the_admin(admin_client, setup, model):
    meta = model._meta
    add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
    assert admin_client.get(add).status_code == 403
