from django.contrib import admin

from analysis.models import Estimate
from collection.admin import OwnedByStudyMixin, ReadOnlyMixin


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
        "n_labels",
        "n_annotators",
        "watermark",
        "computed_at",
    )
    list_filter = ("study", "intervention", "estimand")
