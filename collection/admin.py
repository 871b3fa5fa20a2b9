from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from analysis.selectors import estimates_latest
from collection.export import dataset_jsonl
from collection.models import Assignment, Enrollment, Label, Study


class OwnedByStudyMixin:
    """Researchers see only the studies they own (superusers see all)."""

    study_path = "study"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        owner = "owners" if self.study_path == "" else f"{self.study_path}__owners"
        return queryset.filter(**{owner: request.user}).distinct()


class ReadOnlyMixin:
    """Research records are append-only: the admin shows them and never edits them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:+.3f}"


@admin.register(Study)
class StudyAdmin(OwnedByStudyMixin, admin.ModelAdmin):
    study_path = ""
    list_display = ("title", "slug", "status", "labels", "entry_link")
    list_filter = ("status",)
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("stimulus_sets", "owners")
    readonly_fields = ("entry_link", "results_link", "estimates")
    fieldsets = (
        ("Results", {"fields": ("entry_link", "results_link", "estimates")}),
        ("Study", {"fields": ("title", "slug", "status", "owners", "stimulus_sets")}),
        (
            "Design",
            {
                "fields": (
                    "design_name",
                    "design_params",
                    "order_scheme",
                    "order_block_size",
                    "seed",
                    "replication_factor",
                    "labels_per_annotator",
                    "label_target",
                    "attention_check_rate",
                    "assignment_ttl_seconds",
                    "stopping_rule",
                )
            },
        ),
        (
            "Analysis",
            {"fields": ("estimand", "ties", "strength", "min_annotators")},
        ),
        (
            "What annotators see",
            {"fields": ("consent_text", "instructions", "covariate_schema", "completion_code")},
        ),
    )
    actions = ("launch", "pause", "export_jsonl")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            obj.owners.add(request.user)

    @admin.display(description="labels")
    def labels(self, obj: Study) -> int:
        return obj.labels.filter(supersedes__isnull=True).count()

    @admin.display(description="annotator link")
    def entry_link(self, obj: Study) -> str:
        if not obj.pk:
            return "–"
        url = f"/s/{obj.slug}/"
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="results page")
    def results_link(self, obj: Study) -> str:
        if not obj.pk:
            return "–"
        url = reverse("analysis:results", args=[obj.slug])
        return format_html('<a href="{}">live results, confidence sequences, plot</a>', url)

    @admin.display(description="latest estimates")
    def estimates(self, obj: Study) -> str:
        rows = [
            (
                e.intervention.name,
                e.get_estimand_display(),
                _fmt(e.point),
                _fmt(e.se).lstrip("+"),
                f"[{_fmt(e.ci_low)}, {_fmt(e.ci_high)}]",
                "–" if e.p_value is None else f"{e.p_value:.3g}",
                e.n_labels,
                e.n_annotators,
                e.computed_at.strftime("%Y-%m-%d %H:%M:%S"),
            )
            for e in estimates_latest(study=obj)
        ]
        if not rows:
            return "No estimate yet: one appears once two annotators have labelled."
        head = mark_safe(  # noqa: S308 - a constant
            "<tr><th>intervention</th><th>estimand</th><th>estimate</th><th>SE</th>"
            "<th>95% CI</th><th>p</th><th>labels</th><th>annotators</th><th>at</th></tr>"
        )
        body = format_html_join("", "<tr>" + "<td>{}</td>" * 9 + "</tr>", rows)
        return format_html('<table id="estimates">{}{}</table>', head, body)

    @admin.action(description="Launch (start accepting annotators)")
    def launch(self, request, queryset):
        updated = queryset.update(status=Study.Status.RUNNING)
        self.message_user(request, f"{updated} study(ies) running.", messages.SUCCESS)

    @admin.action(description="Pause")
    def pause(self, request, queryset):
        updated = queryset.filter(status=Study.Status.RUNNING).update(status=Study.Status.PAUSED)
        self.message_user(request, f"{updated} study(ies) paused.", messages.SUCCESS)

    @admin.action(description="Export dataset (TRL JSONL)")
    def export_jsonl(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one study to export.", messages.ERROR)
            return None
        study = queryset.get()
        response = StreamingHttpResponse(
            dataset_jsonl(study=study), content_type="application/x-ndjson"
        )
        response["Content-Disposition"] = f'attachment; filename="{study.slug}.jsonl"'
        return response


@admin.register(Enrollment)
class EnrollmentAdmin(OwnedByStudyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("annotator", "study", "consented_at", "completed_at")
    list_filter = ("study",)


@admin.register(Assignment)
class AssignmentAdmin(OwnedByStudyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "study",
        "annotator",
        "stimulus",
        "cell",
        "state",
        "is_attention_check",
        "treated_on_left",
        "propensity",
        "served_at",
        "expires_at",
    )
    list_filter = ("study", "design_name", "state", "is_attention_check")


@admin.register(Label)
class LabelAdmin(OwnedByStudyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("pk", "study", "choice", "strength", "outcome", "created_at")
    list_filter = ("study", "choice")
