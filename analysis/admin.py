from functools import partial

from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from analysis.models import Estimate, RefreshRun
from analysis.planning_admin import planning_view
from analysis.selectors import estimates_latest
from analysis.stopping_form import STOPPING_FIELDS, StudyStoppingForm
from collection.admin import STUDY_FILTER, OwnedByStudyMixin, ReadOnlyMixin, StudyAdmin
from collection.models import Study


def _results_link(study) -> str:
    url = reverse("analysis:results", args=[study.slug])
    return format_html('<a href="{}">results page</a>', url)


@admin.register(Estimate)
class EstimateAdmin(OwnedByStudyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "study",
        "intervention",
        "estimand",
        "subgroup",
        "point",
        "se",
        "ci_low",
        "ci_high",
        "p_value",
        "cs_low",
        "cs_high",
        "p_always_valid",
        "p_holm",
        "p_bh",
        "n_labels",
        "n_annotators",
        "watermark",
        "computed_at",
        "results",
    )
    list_filter = (
        STUDY_FILTER,
        ("intervention", admin.RelatedOnlyFieldListFilter),
        "estimand",
        "subgroup",
    )

    @admin.display(description="results")
    def results(self, obj: Estimate) -> str:
        return _results_link(obj.study)


@admin.register(RefreshRun)
class RefreshRunAdmin(OwnedByStudyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "study",
        "kind",
        "trigger",
        "started_at",
        "finished_at",
        "labels_folded",
        "watermark_from",
        "watermark_to",
        "snapshots",
        "drift",
        "results",
    )
    list_filter = (STUDY_FILTER, "kind", "trigger")

    @admin.display(description="results")
    def results(self, obj: RefreshRun) -> str:
        return _results_link(obj.study)


# The study page shows the latest estimates; they belong to analysis, and collection may
# not import analysis, so analysis extends the study admin collection registered.
admin.site.unregister(Study)


@admin.register(Study)
class StudyWithEstimatesAdmin(StudyAdmin):
    readonly_fields = ("entry_link", "results_link", "owner_names", "estimates", "planning_link")  # type: ignore[assignment]
    form = StudyStoppingForm
    fieldsets = (  # type: ignore[assignment]
        ("Results", {"fields": ("entry_link", "results_link", "planning_link", "estimates")}),
        *(
            (
                title,
                {**options, "fields": tuple(f for f in options["fields"] if f != "stopping_rule")},
            )
            for title, options in StudyAdmin.fieldsets[1:]
        ),
        (
            "Stopping rule",
            {
                "fields": tuple(STOPPING_FIELDS),
                "description": "Any condition met pauses the study and emails its owners "
                "(and sends the study.completed webhook). None set: it never stops itself.",
            },
        ),
    )

    def get_urls(self):
        view = self.admin_site.admin_view(partial(planning_view, self.admin_site))
        own = [path("<int:pk>/plan/", view, name="collection_study_planning")]
        return own + super().get_urls()

    @admin.display(description="planning")
    def planning_link(self, obj: Study) -> str:
        if not obj.pk:
            return "–"
        url = reverse("admin:collection_study_planning", args=[obj.pk])
        return format_html('<a href="{}" id="planning-link">annotators and labels needed</a>', url)

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


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:+.3f}"
