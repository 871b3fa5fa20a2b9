"""The admin of the annotators' records, scoped to the studies a researcher may read.

The annotators app cannot see studies (it sits below collection), so its models are
registered here: an annotator, their answers and their consents are visible only through
a study the researcher can read; a questionnaire to its author and through such studies.
"""

from django.contrib import admin
from django.db.models import F, QuerySet
from django.http import HttpRequest

from annotators.forms import CovariateSchemaForm, questionnaire_fieldsets
from annotators.models import Annotator, ConsentRecord, CovariateResponse, CovariateSchema
from collection.access import covariate_schemas_usable, studies_readable
from collection.admin import ReadOnlyMixin


@admin.register(CovariateSchema)
class CovariateSchemaAdmin(admin.ModelAdmin):
    form = CovariateSchemaForm
    list_display = ("name", "created_at")

    def get_fieldsets(self, request, obj=None):
        # The written questions open, and the next empty row.
        return questionnaire_fieldsets(open_rows=len(obj.questions) + 1 if obj else 1)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return covariate_schemas_usable(user=request.user)

    def has_change_permission(self, request, obj=None):
        # A questionnaire in use by someone else's study is theirs to change.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or request.user.is_superuser or obj.owner == request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)


@admin.register(Annotator)
class AnnotatorAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("code", "recruitment", "created_at")
    list_filter = ("recruitment",)
    search_fields = ("code",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        readable = studies_readable(user=request.user)
        return super().get_queryset(request).filter(enrollments__study__in=readable).distinct()

    def get_fields(self, request, obj=None):
        # The keyed hash links one person across studies: only an administrator sees it.
        fields = ["code", "recruitment", "created_at"]
        return [*fields, "external_id_hash"] if request.user.is_superuser else fields


@admin.register(CovariateResponse)
class CovariateResponseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("annotator", "schema", "created_at")
    fields = ("annotator", "schema", "answers", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Answers to the questionnaire of a study the researcher can read, by its annotators.
        readable = studies_readable(user=request.user)
        return (
            super()
            .get_queryset(request)
            .filter(
                annotator__enrollments__study__in=readable,
                annotator__enrollments__study__covariate_schema=F("schema"),
            )
            .distinct()
        )


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("annotator", "scope", "given_at")
    fields = ("annotator", "scope", "text", "given_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        readable = studies_readable(user=request.user).values("slug")
        return super().get_queryset(request).filter(scope__in=readable)
