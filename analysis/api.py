"""The researcher API's results: the latest estimates of a study (/api/v1/)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.models import Estimate
from analysis.selectors import estimates_latest, results_watermark
from collection.researcher_api.views import ResearcherView, study_for


class EstimateSerializer(serializers.ModelSerializer):
    intervention = serializers.CharField(source="intervention.name")

    class Meta:
        model = Estimate
        fields = (
            "intervention", "estimand", "subgroup", "estimator", "weighting", "n_labels",
            "n_annotators", "point", "se", "df", "ci_low", "ci_high", "p_value", "cs_low",
            "cs_high", "note", "computed_at",
        )  # fmt: skip


class ResultsSerializer(serializers.Serializer):
    study = serializers.CharField()
    watermark = serializers.IntegerField(help_text="Newest label id the estimates include.")
    estimates = EstimateSerializer(many=True)


class StudyResults(ResearcherView, APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "subgroups", OpenApiTypes.BOOL, description="Include per-subgroup rows."
            )
        ],
        responses=ResultsSerializer,
    )
    def get(self, request: Request, slug: str) -> Response:
        """The newest estimate of each intervention and estimand (and subgroup)."""
        study = study_for(request, slug)
        subgroups = request.query_params.get("subgroups", "").lower() in ("1", "true", "yes")
        body = {
            "study": study.slug,
            "watermark": results_watermark(study=study),
            "estimates": EstimateSerializer(
                estimates_latest(study=study, subgroups=subgroups), many=True
            ).data,
        }
        return Response(body)
