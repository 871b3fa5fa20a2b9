"""What the researcher API shows of each record: pseudonymous, never a recruiter's id."""

from rest_framework import serializers

from collection.exports.columns import FORMATS
from collection.exports.services import OPTION_KEYS
from collection.models import Enrollment, Export, Label, Study
from interventions.models import Stimulus, StimulusSet
from interventions.pair_imports import PAIR_FORMATS


class StudySerializer(serializers.ModelSerializer):
    class Meta:
        model = Study
        fields = (
            "slug", "title", "status", "kind", "design_name", "order_scheme",
            "replication_factor", "labels_per_annotator", "label_target",
            "attention_check_rate", "estimand", "ties", "strength", "seed", "created_at",
        )  # fmt: skip


class EnrollmentSerializer(serializers.ModelSerializer):
    annotator = serializers.CharField(source="annotator.code", help_text="Pseudonym.")

    class Meta:
        model = Enrollment
        fields = (
            "id", "annotator", "consented_at", "practice_done_at", "completed_at",
            "declined_at", "returned_at", "labels_done", "created_at",
        )  # fmt: skip


class LabelSerializer(serializers.ModelSerializer):
    annotator = serializers.CharField(source="assignment.annotator.code", help_text="Pseudonym.")
    stimulus_id = serializers.IntegerField(source="assignment.stimulus_id")
    intervention = serializers.CharField(source="assignment.stimulus.cell")
    treated_on_left = serializers.BooleanField(source="assignment.treated_on_left")
    propensity = serializers.FloatField(source="assignment.propensity")
    is_attention_check = serializers.BooleanField(source="assignment.is_attention_check")

    class Meta:
        model = Label
        fields = (
            "id", "assignment_id", "stimulus_id", "intervention", "annotator",
            "treated_on_left", "choice", "strength", "rationale", "time_on_task_ms",
            "propensity", "is_attention_check", "supersedes_id", "outcome", "created_at",
        )  # fmt: skip


class StimulusSetSerializer(serializers.ModelSerializer):
    class Meta:
        model = StimulusSet
        fields = ("id", "name", "description", "response_source", "seed", "generation_status")


class StimulusSerializer(serializers.ModelSerializer):
    prompt = serializers.CharField(source="prompt.text")
    control = serializers.CharField(source="control.text")
    treated = serializers.CharField(source="treated.text")

    class Meta:
        model = Stimulus
        fields = (
            "id", "cell", "provenance", "prompt", "control", "treated", "check_status",
            "check_reason", "review_status", "review_reason", "reviewed_at",
            "validation_status", "is_attention_check",
        )  # fmt: skip


class ReviewSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=1000,
        help_text="Stimuli of this set to review, at most 1,000 at once.",
    )
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=2000,
        help_text="Why the pairs are rejected (required to reject); kept with them.",
    )  # fmt: skip


class ReviewResultSerializer(serializers.Serializer):
    reviewed = serializers.IntegerField()
    stimuli = StimulusSerializer(many=True)


class ExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = (
            "id", "format", "file_format", "options", "status", "error", "rows", "labels",
            "sha256", "created_at", "finished_at", "download_url",
        )  # fmt: skip

    def get_download_url(self, export: Export) -> str | None:
        if export.status != Export.Status.DONE:
            return None
        request = self.context["request"]
        return request.build_absolute_uri(
            f"/api/v1/studies/{export.study.slug}/exports/{export.pk}/download/"
        )


class ExportRequestSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS)
    file_format = serializers.ChoiceField(choices=["jsonl", "parquet"])
    options = serializers.DictField(
        required=False,
        default=dict,
        help_text="Filters: " + ", ".join(OPTION_KEYS) + " (see the codebook).",
    )


class PairImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or JSONL by the format, or the same gzipped.")
    format = serializers.ChoiceField(choices=PAIR_FORMATS)
    stimulus_set_name = serializers.CharField(max_length=200)
    source = serializers.CharField(
        max_length=200, required=False, default="", help_text="Default: the file's name."
    )
    intervention = serializers.CharField(
        max_length=200, required=False, default="", help_text="For rows that name none."
    )
    skip_invalid = serializers.BooleanField(
        required=False, default=False, help_text="Import the valid rows, report the rest."
    )


class PairImportResultSerializer(serializers.Serializer):
    stimulus_set = StimulusSetSerializer()
    stimuli = serializers.IntegerField()
    rejected = serializers.IntegerField(help_text="Imported, but failed their check.")
    invalid_rows = serializers.ListField(child=serializers.CharField())
