"""Forms over the annotators' models, used by the admin of the app that scopes them."""

from django import forms
from django.core.exceptions import ValidationError

from annotators.covariates import QUESTION_TYPES, schema_validate
from annotators.models import CovariateSchema

# Rows of the questionnaire editor; a covariate questionnaire is short.
MAX_QUESTIONS = 12


def _row(n: int, part: str) -> str:
    return f"q{n}_{part}"


def _question_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for n in range(1, MAX_QUESTIONS + 1):
        fields[_row(n, "key")] = forms.SlugField(
            required=False, label="Key", help_text="Short name in exports, e.g. expertise."
        )
        fields[_row(n, "label")] = forms.CharField(
            required=False, max_length=300, label="Question", help_text="As annotators read it."
        )
        fields[_row(n, "type")] = forms.ChoiceField(
            required=False,
            choices=[("", "—")] + [(t, t) for t in QUESTION_TYPES],
            label="Answer type",
        )
        fields[_row(n, "choices")] = forms.CharField(
            required=False,
            widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
            label="Choices",
            help_text="For a choice question: one answer per line.",
        )
        fields[_row(n, "min")] = forms.FloatField(required=False, label="Minimum")
        fields[_row(n, "max")] = forms.FloatField(required=False, label="Maximum")
        fields[_row(n, "required")] = forms.BooleanField(
            required=False, initial=True, label="Answer required"
        )
    return fields


class _QuestionnaireForm(forms.ModelForm):
    """The questionnaire as rows of fields (no JSON to write): each filled row is a
    question; empty rows are ignored. Stored as the list annotators.covariates reads."""

    class Meta:
        model = CovariateSchema
        fields = ("name",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        questions = self.instance.questions if self.instance.pk else []
        if len(questions) > MAX_QUESTIONS:
            raise ValueError(f"this editor shows at most {MAX_QUESTIONS} questions")
        for n, q in enumerate(questions, start=1):
            self.initial[_row(n, "key")] = q["key"]
            self.initial[_row(n, "label")] = q["label"]
            self.initial[_row(n, "type")] = q["type"]
            self.initial[_row(n, "choices")] = "\n".join(q.get("choices", []))
            self.initial[_row(n, "min")] = q.get("min")
            self.initial[_row(n, "max")] = q.get("max")
            self.initial[_row(n, "required")] = q.get("required", True)

    def questions(self) -> list[dict]:
        """The filled rows as questions, in order."""
        data = self.cleaned_data
        out: list[dict] = []
        for n in range(1, MAX_QUESTIONS + 1):
            key, label, kind = (data.get(_row(n, p)) or "" for p in ("key", "label", "type"))
            choices = [c.strip() for c in (data.get(_row(n, "choices")) or "").splitlines()]
            bounds = {p: data.get(_row(n, p)) for p in ("min", "max")}
            if not (key or label or kind or any(choices)):
                continue  # an empty row
            question: dict = {"key": key, "label": label, "type": kind}
            if kind == "choice":
                question["choices"] = [c for c in choices if c]
            if kind == "number":
                question.update({p: v for p, v in bounds.items() if v is not None})
                if None not in bounds.values() and bounds["min"] > bounds["max"]:  # type: ignore[operator]
                    self.add_error(_row(n, "max"), "the maximum is below the minimum")
            question["required"] = bool(data.get(_row(n, "required")))
            out.append(question)
        return out

    def clean(self):
        data = super().clean()
        questions = self.questions()
        try:
            schema_validate(questions)
        except ValidationError as exc:
            raise ValidationError(
                [m.replace("questions must be", "the questionnaire needs") for m in exc.messages]
            ) from exc
        self.instance.questions = questions
        return data


# Declared on the class (not added in __init__), so the admin's form factory knows them.
CovariateSchemaForm = type("CovariateSchemaForm", (_QuestionnaireForm,), _question_fields())


def questionnaire_fieldsets(open_rows: int = 1) -> tuple:
    """The admin's fieldsets for CovariateSchemaForm: the name, then one per question row
    (rows after the first ``open_rows`` collapsed until opened)."""
    rows = tuple(
        (
            f"Question {n}",
            {
                "fields": (
                    (_row(n, "key"), _row(n, "type"), _row(n, "required")),
                    _row(n, "label"),
                    _row(n, "choices"),
                    (_row(n, "min"), _row(n, "max")),
                ),
                "classes": () if n <= open_rows else ("collapse",),
            },
        )
        for n in range(1, MAX_QUESTIONS + 1)
    )
    return ((None, {"fields": ("name",)}), *rows)
