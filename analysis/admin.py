from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from analysis.models import Estimate, RefreshRun
from collection.admin import OwnedByStudyMixin, ReadOnlyMixin


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
    list_filter = ("study", "intervention", "estimand", "subgroup")

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
    list_filter = ("study", "kind", "trigger")

    @admin.display(description="results")
    def results(self, obj: RefreshRun) -> str:
        return _results_link(obj.study)
