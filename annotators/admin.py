from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm

from annotators.covariates import schema_validate
from annotators.models import Annotator, ConsentRecord, CovariateResponse, CovariateSchema


class CovariateSchemaForm(ModelForm):
    class Meta:
        model = CovariateSchema
        fields = ("name", "questions")

    def clean_questions(self):
        questions = self.cleaned_data["questions"]
        try:
            schema_validate(questions)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return questions


@admin.register(CovariateSchema)
class CovariateSchemaAdmin(admin.ModelAdmin):
    form = CovariateSchemaForm
    list_display = ("name", "created_at")


@admin.register(Annotator)
class AnnotatorAdmin(admin.ModelAdmin):
    list_display = ("code", "recruitment", "created_at")
    list_filter = ("recruitment",)
    search_fields = ("code",)
    readonly_fields = ("code", "external_id_hash", "recruitment", "created_at")

    def has_add_permission(self, request):
        return False


@admin.register(CovariateResponse)
class CovariateResponseAdmin(admin.ModelAdmin):
    list_display = ("annotator", "schema", "created_at")
    readonly_fields = ("annotator", "schema", "answers", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ("annotator", "scope", "given_at")
    readonly_fields = ("annotator", "scope", "text", "given_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
