"""Forms over the annotators' models, used by the admin of the app that scopes them."""

from django.core.exceptions import ValidationError
from django.forms import ModelForm

from annotators.covariates import schema_validate
from annotators.models import CovariateSchema


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
