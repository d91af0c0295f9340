"""Factories that build data through the real services where it matters."""

from __future__ import annotations

import factory

from workbench.accounts.models import User
from workbench.deliberation.models import Participant, ParticipantGroup, Workshop


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"facilitator{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class WorkshopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workshop

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Workshop {n}")
    slug = factory.Sequence(lambda n: f"workshop-{n}")
    question = "What should an AI assistant always do?"
    strict_moderation = True


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ParticipantGroup

    workshop = factory.SubFactory(WorkshopFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    group = factory.SubFactory(GroupFactory)
    workshop = factory.LazyAttribute(lambda p: p.group.workshop)
