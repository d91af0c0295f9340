"""The /api/v1/ endpoints. Thin: every read is scoped through
``workshop_get_for_user`` (another facilitator's workshop is a 404), every write
calls the deliberation or judging service that the web pages call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from django.db import transaction
from django.db.models import Count, Model, QuerySet
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import ModelSerializer

from workbench.accounts.models import User
from workbench.api import serializers as s
from workbench.api.components import EncodingGapReportSchema, ValueCardSchema
from workbench.api.exceptions import Conflict
from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    Participant,
    ParticipantGroup,
    Principle,
    RankingBallot,
    Round,
    Vote,
    VoteRecord,
    Workshop,
)
from workbench.deliberation.selectors.analysis import analysis_latest
from workbench.deliberation.selectors.workshops import (
    group_get_for_user,
    workshop_get_for_user,
    workshop_list_for_user,
)
from workbench.deliberation.services.principles import principle_seed
from workbench.deliberation.services.rounds import round_create
from workbench.deliberation.services.workshops import group_create, workshop_create
from workbench.judging.llm import available_providers
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    HumanJudgment,
    JudgeConfig,
    JudgeRun,
    Verdict,
)
from workbench.judging.selectors import judge_run_progress
from workbench.judging.services.encoding_gap import encoding_gap_report
from workbench.judging.services.runs import (
    judge_config_get_or_create,
    judge_run_cancel,
    judge_run_start,
)


def _user(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):  # IsAuthenticated runs first; this is for mypy
        raise exceptions.NotAuthenticated()
    return user


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise exceptions.ValidationError(
            {name: [_("Expected a whole number.")]}
        ) from None
    if not 0 < value < 2**63:
        raise exceptions.ValidationError({name: [_("Expected a positive id.")]})
    return value


def _id_filters(*names: str) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(name, int, description=_("Only rows with this %s id.") % name)
        for name in names
    ]


_M = TypeVar("_M", bound=Model)


class WorkshopScopedViewSet(viewsets.GenericViewSet[_M]):
    """A resource of one workshop, at /workshops/{slug}/<resource>/.

    ``filters`` maps a query parameter to the field it filters (ids); ``workshop_path``
    is the lookup from the model to its workshop."""

    model: type[_M]
    workshop_path: ClassVar[str] = "workshop"
    filters: ClassVar[dict[str, str]] = {}
    ordering: ClassVar[tuple[str, ...]] = ("id",)
    lookup_field = "pk"
    lookup_value_converter = "int"

    def get_workshop(self) -> Workshop:
        cached: Workshop | None = getattr(self, "_workshop", None)
        if cached is None:
            cached = workshop_get_for_user(
                user=_user(self.request), slug=self.kwargs["slug"]
            )
            self._workshop = cached
        return cached

    def base_queryset(self) -> QuerySet[_M]:
        return self.model._default_manager.all()

    def get_queryset(self) -> QuerySet[_M]:
        if getattr(self, "swagger_fake_view", False):
            return self.model._default_manager.none()
        workshop_pk = self.get_workshop().pk
        rows = self.base_queryset().filter(**{self.workshop_path: workshop_pk})
        for param, field in self.filters.items():
            value = _int_param(self.request, param)
            if value is not None:
                rows = rows.filter(**{field: value})
        return rows.order_by(*self.ordering)


class WorkshopDocumentViewSet(WorkshopScopedViewSet[Workshop]):
    """One document about the workshop itself (its analysis, report or cards),
    not a list of rows: the queryset the browsable API asks for is the workshop."""

    model = Workshop
    workshop_path = "pk"
    pagination_class = None
    # Any: a document's serializer describes a dict the view builds, not the
    # Workshop the base class's BaseSerializer[Workshop] would ask for.
    serializer_class: Any = None


def _created(serializer_class: type[ModelSerializer[_M]], obj: _M) -> Response:
    return Response(serializer_class(obj).data, status=status.HTTP_201_CREATED)


# --- workshops ---------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Your workshops"),
    retrieve=extend_schema(summary="One of your workshops"),
)
class WorkshopViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Workshop]
):
    serializer_class = s.WorkshopSerializer
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[Workshop]:
        if getattr(self, "swagger_fake_view", False):
            return Workshop.objects.none()
        return workshop_list_for_user(user=_user(self.request)).order_by(
            "-created_at", "-id"
        )

    def get_object(self) -> Workshop:
        return workshop_get_for_user(user=_user(self.request), slug=self.kwargs["slug"])

    @extend_schema(
        summary="Create a workshop",
        request=s.WorkshopInputSerializer,
        responses={201: s.WorkshopSerializer},
    )
    def create(self, request: Request) -> Response:
        data = s.WorkshopInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workshop = workshop_create(owner=_user(request), **data.validated_data)
        return _created(s.WorkshopSerializer, workshop)


# --- deliberation ------------------------------------------------------------------


class GroupViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    WorkshopScopedViewSet[ParticipantGroup],
):
    model = ParticipantGroup
    serializer_class = s.GroupSerializer

    @extend_schema(
        summary="Create a participant group",
        request=s.GroupInputSerializer,
        responses={201: s.GroupSerializer},
    )
    def create(self, request: Request, slug: str) -> Response:
        data = s.GroupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = group_create(workshop=self.get_workshop(), **data.validated_data)
        return _created(s.GroupSerializer, group)


@extend_schema_view(list=extend_schema(parameters=_id_filters("group")))
class ParticipantViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkshopScopedViewSet[Participant]
):
    model = Participant
    serializer_class = s.ParticipantSerializer
    filters: ClassVar[dict[str, str]] = {"group": "group_id"}


def _optional_group(
    view: WorkshopScopedViewSet[Any], pk: int | None
) -> ParticipantGroup | None:
    if pk is None:
        return None
    try:
        return group_get_for_user(
            user=_user(view.request), workshop=view.get_workshop(), pk=pk
        )
    except Http404:  # another workshop's group, or none
        raise exceptions.ValidationError(
            {"group": [_("No such group in this workshop.")]}
        ) from None


@extend_schema_view(list=extend_schema(parameters=_id_filters("group", "round")))
class PrincipleViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkshopScopedViewSet[Principle]
):
    model = Principle
    serializer_class = s.PrincipleSerializer
    filters: ClassVar[dict[str, str]] = {"group": "group_id", "round": "round_id"}

    def base_queryset(self) -> QuerySet[Principle]:
        return Principle.objects.prefetch_related("versions__translations")

    @extend_schema(
        summary="Seed a principle (approved at once)",
        request=s.PrincipleInputSerializer,
        responses={201: s.PrincipleSerializer},
    )
    def create(self, request: Request, slug: str) -> Response:
        data = s.PrincipleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = _optional_group(self, data.validated_data["group"])
        principle = principle_seed(
            workshop=self.get_workshop(),
            text=data.validated_data["text"],
            actor=_user(request),
            group=group,
        )
        return _created(s.PrincipleSerializer, principle)


class RoundViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkshopScopedViewSet[Round]
):
    model = Round
    serializer_class = s.RoundSerializer
    ordering = ("position", "id")

    @extend_schema(
        summary="Create a round (as a draft)",
        request=s.RoundInputSerializer,
        responses={201: s.RoundSerializer},
    )
    def create(self, request: Request, slug: str) -> Response:
        data = s.RoundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["group"] = _optional_group(self, fields["group"])
        round_ = round_create(workshop=self.get_workshop(), **fields)
        return _created(s.RoundSerializer, round_)


_VOTE_FILTERS = {
    "round": "round_id",
    "principle": "principle_id",
    "participant": "participant_id",
}


@extend_schema_view(
    list=extend_schema(
        summary="Current votes (one per participant, principle and round)",
        parameters=_id_filters(*_VOTE_FILTERS),
    )
)
class VoteViewSet(mixins.ListModelMixin, WorkshopScopedViewSet[Vote]):
    model = Vote
    serializer_class = s.VoteSerializer
    workshop_path = "round__workshop"
    filters = _VOTE_FILTERS


@extend_schema_view(
    list=extend_schema(
        summary="Every vote ever cast, changed votes included (append-only)",
        parameters=_id_filters(*_VOTE_FILTERS),
    )
)
class VoteHistoryViewSet(mixins.ListModelMixin, WorkshopScopedViewSet[VoteRecord]):
    model = VoteRecord
    serializer_class = s.VoteRecordSerializer
    workshop_path = "round__workshop"
    filters = _VOTE_FILTERS
    ordering = ("cast_at", "id")


@extend_schema_view(list=extend_schema(parameters=_id_filters("round", "participant")))
class BallotViewSet(mixins.ListModelMixin, WorkshopScopedViewSet[RankingBallot]):
    model = RankingBallot
    serializer_class = s.BallotSerializer
    workshop_path = "round__workshop"
    filters: ClassVar[dict[str, str]] = {
        "round": "round_id",
        "participant": "participant_id",
    }


@extend_schema_view(list=extend_schema(parameters=_id_filters("principle", "round")))
class ModerationEventViewSet(
    mixins.ListModelMixin, WorkshopScopedViewSet[ModerationEvent]
):
    model = ModerationEvent
    serializer_class = s.ModerationEventSerializer
    filters: ClassVar[dict[str, str]] = {
        "principle": "principle_id",
        "round": "round_id",
    }
    ordering = ("created_at", "id")

    def base_queryset(self) -> QuerySet[ModerationEvent]:
        return ModerationEvent.objects.select_related("actor")


class ConstitutionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    WorkshopScopedViewSet[Constitution],
):
    model = Constitution
    serializer_class = s.ConstitutionSerializer
    ordering = ("-published_at", "-id")


class AnalysisViewSet(WorkshopDocumentViewSet):
    serializer_class = s.AnalysisSerializer

    @extend_schema(
        summary="The latest analysis (what `manage.py analyze --json` prints)",
        responses={200: s.AnalysisSerializer},
    )
    def list(self, request: Request, slug: str) -> Response:
        latest = analysis_latest(workshop=self.get_workshop())
        return Response(
            {
                "computed_at": latest.computed_at if latest else None,
                "n_votes": latest.n_votes if latest else 0,
                "n_participants": latest.n_participants if latest else 0,
                "result": latest.result if latest else None,
            }
        )


# --- judging -----------------------------------------------------------------------


class ComparisonSetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    WorkshopScopedViewSet[ComparisonSet],
):
    model = ComparisonSet
    serializer_class = s.ComparisonSetSerializer

    def base_queryset(self) -> QuerySet[ComparisonSet]:
        return ComparisonSet.objects.annotate(n_items=Count("items"))


@extend_schema_view(
    list=extend_schema(parameters=_id_filters("comparison_set", "principle"))
)
class ComparisonItemViewSet(
    mixins.ListModelMixin, WorkshopScopedViewSet[ComparisonItem]
):
    model = ComparisonItem
    serializer_class = s.ComparisonItemSerializer
    workshop_path = "comparison_set__workshop"
    filters: ClassVar[dict[str, str]] = {
        "comparison_set": "comparison_set_id",
        "principle": "principle_version__principle_id",
    }

    def base_queryset(self) -> QuerySet[ComparisonItem]:
        return ComparisonItem.objects.select_related(
            "prompt", "response_a", "response_b", "principle_version"
        )


@extend_schema_view(
    list=extend_schema(parameters=_id_filters("item", "comparison_set", "participant"))
)
class HumanJudgmentViewSet(mixins.ListModelMixin, WorkshopScopedViewSet[HumanJudgment]):
    model = HumanJudgment
    serializer_class = s.HumanJudgmentSerializer
    workshop_path = "item__comparison_set__workshop"
    filters: ClassVar[dict[str, str]] = {
        "item": "item_id",
        "comparison_set": "item__comparison_set_id",
        "participant": "participant_id",
    }


class JudgeConfigViewSet(mixins.ListModelMixin, WorkshopScopedViewSet[JudgeConfig]):
    """The judge configurations this workshop's runs used."""

    model = JudgeConfig
    serializer_class = s.JudgeConfigSerializer
    workshop_path = "runs__comparison_set__workshop"

    def get_queryset(self) -> QuerySet[JudgeConfig]:
        return super().get_queryset().distinct()


@extend_schema_view(list=extend_schema(parameters=_id_filters("comparison_set")))
class JudgeRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkshopScopedViewSet[JudgeRun]
):
    model = JudgeRun
    serializer_class = s.JudgeRunSerializer
    workshop_path = "comparison_set__workshop"
    filters: ClassVar[dict[str, str]] = {"comparison_set": "comparison_set_id"}

    def base_queryset(self) -> QuerySet[JudgeRun]:
        return JudgeRun.objects.select_related("config")

    @extend_schema(
        summary="Start a judge run over a comparison set (judged by a worker)",
        request=s.JudgeRunInputSerializer,
        responses={201: s.JudgeRunSerializer},
    )
    def create(self, request: Request, slug: str) -> Response:
        data = s.JudgeRunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        missing = available_providers().get(fields["provider"])
        if missing:
            raise exceptions.ValidationError(
                {
                    "provider": [
                        _("This server cannot use %(provider)s: %(missing)s.")
                        % {"provider": fields["provider"], "missing": missing}
                    ]
                }
            )
        comparison_set = ComparisonSet.objects.filter(
            pk=fields["comparison_set"], workshop=self.get_workshop()
        ).first()
        if comparison_set is None:
            raise exceptions.ValidationError(
                {"comparison_set": [_("No such comparison set in this workshop.")]}
            )
        with transaction.atomic():
            config = judge_config_get_or_create(
                provider=fields["provider"],
                model=fields["model"],
                samples=fields["samples"],
                control=fields["control"],
            )
            run = judge_run_start(
                comparison_set=comparison_set, config=config, actor=_user(request)
            )
        return _created(s.JudgeRunSerializer, run)

    @extend_schema(
        summary="A run's progress, read fresh",
        request=None,
        responses={200: s.RunProgressSerializer},
    )
    @action(detail=True, methods=["get"])
    def progress(self, request: Request, slug: str, pk: int) -> Response:
        return Response(judge_run_progress(run=self.get_object()))

    @extend_schema(
        summary="Cancel a pending or running run",
        request=None,
        responses={200: s.RunProgressSerializer, 409: s.ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, slug: str, pk: int) -> Response:
        run = self.get_object()
        if not judge_run_cancel(run=run):
            raise Conflict(_("This run has already ended."), code="run_ended")
        return Response(judge_run_progress(run=run))


@extend_schema_view(list=extend_schema(parameters=_id_filters("run", "item")))
class VerdictViewSet(mixins.ListModelMixin, WorkshopScopedViewSet[Verdict]):
    model = Verdict
    serializer_class = s.VerdictSerializer
    workshop_path = "run__comparison_set__workshop"
    filters: ClassVar[dict[str, str]] = {"run": "run_id", "item": "item_id"}


class EncodingGapViewSet(WorkshopDocumentViewSet):
    @extend_schema(
        summary="The encoding-gap report (what `manage.py encoding_gap --json` prints)",
        parameters=[
            OpenApiParameter(
                "run", int, description="A run's id; default: the latest finished."
            )
        ],
        responses={200: EncodingGapReportSchema},
    )
    def list(self, request: Request, slug: str) -> Response:
        workshop = self.get_workshop()
        run = None
        run_id = _int_param(request, "run")
        if run_id is not None:
            run = JudgeRun.objects.filter(
                pk=run_id, comparison_set__workshop=workshop
            ).first()
            if run is None:
                raise exceptions.ValidationError(
                    {"run": [_("No such run in this workshop.")]}
                )
        return Response(encoding_gap_report(workshop=workshop, run=run))


# --- value cards -------------------------------------------------------------------


class FirstRendererNegotiation(BaseContentNegotiation):
    """Downloads answer in their one format whatever the Accept header says; their
    errors are JSON (the first renderer) like every other API error."""

    def select_parser(
        self, request: Request, parsers: Iterable[BaseParser]
    ) -> BaseParser | None:
        return next(iter(parsers), None)  # None: DRF answers 415, as by default

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


def _cards(workshop: Workshop) -> list[dict[str, Any]]:
    # Imported here: the cards app is built alongside this one.
    from workbench.cards.services.build import cards_for_workshop  # noqa: PLC0415

    return cards_for_workshop(workshop=workshop)


class CardsViewSet(WorkshopDocumentViewSet):
    @extend_schema(
        summary="The workshop's value cards (JSON, docs/value-card.schema.json)",
        responses={
            200: OpenApiResponse(
                ValueCardSchema,
                description="Every card, the constitution's first; each is valid "
                "against docs/value-card.schema.json (the ValueCard component).",
            )
        },
    )
    def list(self, request: Request, slug: str) -> Response:
        return Response(_cards(self.get_workshop()))


class CardsMarkdownViewSet(WorkshopDocumentViewSet):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        summary="The value cards as Markdown",
        responses={(200, "text/markdown"): OpenApiTypes.STR},
    )
    def list(self, request: Request, slug: str) -> HttpResponse:
        from workbench.cards.render.markdown import (  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
            cards_markdown,
        )

        workshop = self.get_workshop()
        return HttpResponse(
            cards_markdown(_cards(workshop)),
            content_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="{workshop.slug}.md"'},
        )


class CardsPdfViewSet(WorkshopDocumentViewSet):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        summary="The value cards as a PDF (rendered while you wait)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def list(self, request: Request, slug: str) -> HttpResponse:
        from workbench.cards.render.pdf import cards_pdf  # noqa: PLC0415

        workshop = self.get_workshop()
        pdf = cards_pdf(_cards(workshop), title=workshop.title)
        return HttpResponse(
            pdf,
            content_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{workshop.slug}.pdf"'
            },
        )
