"""The researcher API's views: thin, read through collection.access, one 404 for a study
a researcher may not read and one that does not exist."""

from django.conf import settings
from django.db.models import Q
from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from collection.access import studies_readable
from collection.api import JSONOnly
from collection.exports.services import ExportInvalid, export_file, export_request
from collection.models import Enrollment, Export, Label, Study
from collection.researcher_api.auth import AUTHENTICATION, IsResearcher, ResearcherRateThrottle
from collection.researcher_api.serializers import (
    EnrollmentSerializer,
    ExportRequestSerializer,
    ExportSerializer,
    LabelSerializer,
    PairImportResultSerializer,
    PairImportSerializer,
    ReviewResultSerializer,
    ReviewSerializer,
    StimulusSerializer,
    StimulusSetSerializer,
    StudySerializer,
)
from interventions.import_files import file_lines
from interventions.import_rows import MAX_ERRORS_REPORTED, ImportFailed
from interventions.import_services import stimulus_pairs_import
from interventions.library_access import stimulus_sets_owned
from interventions.models import Stimulus, StimulusSet
from interventions.review import ReviewRefused, stimuli_review


class ByNewestId(CursorPagination):
    """Stable pages however many rows arrive meanwhile: a cursor on the id."""

    ordering = "-pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ById(ByNewestId):
    ordering = "pk"


class ResearcherView:
    authentication_classes = AUTHENTICATION
    permission_classes = [IsResearcher]
    throttle_classes = [ResearcherRateThrottle]


def study_for(request: Request, slug: str) -> Study:
    study = studies_readable(user=request.user).filter(slug=slug).first()
    if study is None:
        raise Http404("no study with this slug that you may read")
    return study


class StudyList(ResearcherView, generics.ListAPIView):
    """The studies you own or were granted."""

    serializer_class = StudySerializer
    pagination_class = ByNewestId

    def get_queryset(self):
        return studies_readable(user=self.request.user)


class StudyDetail(ResearcherView, generics.RetrieveAPIView):
    serializer_class = StudySerializer

    def get_object(self):
        return study_for(self.request, self.kwargs["slug"])


class EnrollmentList(ResearcherView, generics.ListAPIView):
    """The study's participants, pseudonymous."""

    serializer_class = EnrollmentSerializer
    pagination_class = ById

    def get_queryset(self):
        study = study_for(self.request, self.kwargs["slug"])
        return Enrollment.objects.filter(study=study).select_related("annotator")


class LabelList(ResearcherView, generics.ListAPIView):
    """Every label of the study, corrections included (``supersedes_id``), oldest first."""

    serializer_class = LabelSerializer
    pagination_class = ById

    def get_queryset(self):
        study = study_for(self.request, self.kwargs["slug"])
        return Label.objects.filter(study=study).select_related(
            "assignment__annotator", "assignment__stimulus"
        )


def _stimulus_sets(request: Request):
    """As the admin offers them: your own, and those in studies you may read."""
    return StimulusSet.objects.filter(
        Q(pk__in=stimulus_sets_owned(user=request.user).values("pk"))
        | Q(studies__in=studies_readable(user=request.user))
    ).distinct()


class StimulusSetList(ResearcherView, generics.ListAPIView):
    """Your stimulus sets and those of the studies you may read."""

    serializer_class = StimulusSetSerializer
    pagination_class = ById

    def get_queryset(self):
        return _stimulus_sets(self.request)


class StimulusList(ResearcherView, generics.ListAPIView):
    """The set's pairs; ``?review_status=pending`` (or approved, rejected) for one kind."""

    serializer_class = StimulusSerializer
    pagination_class = ById

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "review_status", str, enum=list(Stimulus.ReviewStatus.values), required=False
            )
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        stimulus_set = _stimulus_sets(self.request).filter(pk=self.kwargs["pk"]).first()
        if stimulus_set is None:
            raise Http404("no stimulus set with this id that you may read")
        stimuli = Stimulus.objects.filter(stimulus_set=stimulus_set)
        wanted = self.request.query_params.get("review_status")
        if wanted is not None:
            if wanted not in Stimulus.ReviewStatus.values:
                choices = ", ".join(Stimulus.ReviewStatus.values)
                raise ValidationError({"review_status": f"one of {choices}"})
            stimuli = stimuli.filter(review_status=wanted)
        return stimuli.select_related("prompt", "control", "treated")


class StimulusReview(ResearcherView, APIView):
    @extend_schema(request=ReviewSerializer, responses={200: ReviewResultSerializer})
    def post(self, request: Request, pk: int) -> Response:
        """Approve or reject pairs of a set you own, as the admin's review does: one verdict
        per pair with your name and the time; a rejection needs a reason; all or nothing."""
        stimulus_set = _stimulus_sets(request).filter(pk=pk).first()
        if stimulus_set is None:
            raise Http404("no stimulus set with this id that you may read")
        if not stimulus_sets_owned(user=request.user).filter(pk=pk).exists():
            raise PermissionDenied("only the set's owner reviews its pairs")
        incoming = ReviewSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        ids = sorted(set(data["ids"]))
        found = set(
            Stimulus.objects.filter(stimulus_set=stimulus_set, pk__in=ids).values_list(
                "pk", flat=True
            )
        )
        if missing := [i for i in ids if i not in found]:
            raise ValidationError({"ids": f"not pairs of this set: {missing[:20]}"})
        try:
            reviewed = stimuli_review(
                stimulus_ids=ids,
                approve=data["decision"] == "approve",
                reason=data["reason"],
                reviewer_id=request.user.pk,
            )
        except ReviewRefused as exc:
            raise ValidationError({"detail": str(exc)}) from None
        stimuli = Stimulus.objects.filter(pk__in=ids).select_related("prompt", "control", "treated")
        body = {"reviewed": reviewed, "stimuli": StimulusSerializer(stimuli, many=True).data}
        return Response(body)


class ExportList(ResearcherView, generics.ListAPIView):
    """The study's exports, newest first; POST asks for one (built by a worker)."""

    serializer_class = ExportSerializer
    pagination_class = ByNewestId

    def get_queryset(self):
        study = study_for(self.request, self.kwargs["slug"])
        return Export.objects.filter(study=study).select_related("study")

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportSerializer})
    def post(self, request: Request, slug: str) -> Response:
        study = study_for(request, slug)
        incoming = ExportRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            export = export_request(
                study=study,
                requested_by=request.user,
                format=incoming.validated_data["format"],
                file_format=incoming.validated_data["file_format"],
                options=incoming.validated_data["options"],
            )
        except ExportInvalid as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        body = ExportSerializer(export, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ExportDetail(ResearcherView, generics.RetrieveAPIView):
    serializer_class = ExportSerializer

    def get_object(self):
        study = study_for(self.request, self.kwargs["slug"])
        export = Export.objects.filter(study=study, pk=self.kwargs["pk"]).first()
        if export is None:
            raise Http404("no such export of this study")
        return export


class ExportDownload(ResearcherView, APIView):
    # A client asking for application/zip, as the schema documents, must not get the 406
    # of a negotiation that knows only the JSON renderer (used for its errors).
    content_negotiation_class = JSONOnly

    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request: Request, slug: str, pk: int) -> FileResponse:
        """The finished export's zip (data file, codebook.json, DATACARD.md)."""
        study = study_for(request, slug)
        export = Export.objects.filter(study=study, pk=pk).first()
        path = export_file(export) if export is not None else None
        if export is None or path is None:
            raise Http404("no finished export with this id in this study")
        name = f"{study.slug}-{export.format}-{export.file_format}-{export.pk}.zip"
        return FileResponse(path.open("rb"), as_attachment=True, filename=name)


class PairImport(ResearcherView, APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": PairImportSerializer},
        responses={201: PairImportResultSerializer},
    )
    def post(self, request: Request) -> Response:
        """Import ready-made pairs into a new stimulus set of yours, as the admin does:
        all or nothing, or the valid rows with ``skip_invalid`` (the rest reported)."""
        incoming = PairImportSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        upload = data["file"]
        try:
            summary = stimulus_pairs_import(
                lines=file_lines(upload, name=upload.name, max_bytes=settings.IMPORT_MAX_BYTES),
                format=data["format"],
                source=data["source"] or upload.name,
                stimulus_set_name=data["stimulus_set_name"],
                intervention=data["intervention"],
                skip_invalid=data["skip_invalid"],
                owner_id=request.user.pk,
            )
        except ImportFailed as exc:
            body = {
                "detail": str(exc),
                "errors": exc.errors[:MAX_ERRORS_REPORTED],
                "valid_rows": exc.valid_rows,
                "skippable": exc.skippable,
            }
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        result = {
            "stimulus_set": StimulusSetSerializer(summary.stimulus_set).data,
            "stimuli": summary.stimuli,
            "rejected": summary.rejected,
            "invalid_rows": [str(r) for r in summary.invalid_rows],
        }
        return Response(result, status=status.HTTP_201_CREATED)
