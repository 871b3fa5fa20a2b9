from django import forms

from collection.models import CheckAnswer, Label, PracticePair, Study

# Where "How much better?" starts in a study that ignores strength: a choice and Enter are
# enough there, and the strength does not move the outcome.
STRENGTH_DEFAULT = 2


class LabelForm(forms.Form):
    assignment_id = forms.IntegerField(widget=forms.HiddenInput)
    submission_id = forms.UUIDField(widget=forms.HiddenInput)
    choice = forms.ChoiceField(choices=Label.Choice.choices, widget=forms.RadioSelect)
    strength = forms.TypedChoiceField(
        coerce=int,
        choices=[(1, "slightly better"), (2, "clearly better"), (3, "much better")],
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
    )
    rationale = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why? (optional)"}),
    )
    time_on_task_ms = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, study: Study | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        strength = self.fields["strength"]
        if study is not None and study.strength == Study.Strength.GRADED:
            # Where the strength grades y, nothing is preselected (a preselected answer
            # pulls the answers towards itself) and the browser asks for one before it
            # sends a preference; a tie disables the question, so it is not asked then.
            strength.widget.attrs["required"] = True
        else:
            strength.initial = STRENGTH_DEFAULT

    def clean(self):
        data = super().clean() or {}
        # The page disables "How much better?" for a tie, so a browser sends none; any
        # other choice needs one.
        if data.get("choice") not in (None, Label.Choice.TIE) and data.get("strength") is None:
            self.add_error("strength", "Say how much better the chosen response is.")
        return data


class PracticeForm(forms.Form):
    """An answer to a practice pair: the choice alone (practice is not a label)."""

    practice_id = forms.IntegerField(widget=forms.HiddenInput)
    choice = forms.ChoiceField(choices=PracticePair.Choice.choices, widget=forms.RadioSelect)
    time_on_task_ms = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class CheckForm(forms.Form):
    """A pretest's questions about one pair (the page writes the wording)."""

    assignment_id = forms.IntegerField(widget=forms.HiddenInput)
    submission_id = forms.UUIDField(widget=forms.HiddenInput)
    identified = forms.ChoiceField(choices=CheckAnswer.Identified.choices, widget=forms.RadioSelect)
    same_meaning = forms.TypedChoiceField(
        coerce=lambda value: value == "yes",
        choices=[("yes", "yes"), ("no", "no")],
        widget=forms.RadioSelect,
    )
    time_on_task_ms = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        required=True, label="I have read the information above and agree to take part."
    )


def covariate_form_class(questions: list[dict]) -> type[forms.Form]:
    """A form with one field per question of a covariate schema."""
    fields: dict[str, forms.Field] = {}
    for q in questions:
        required = q.get("required", True)
        if q["type"] == "choice":
            fields[q["key"]] = forms.ChoiceField(
                label=q["label"],
                required=required,
                choices=[("", "choose...")] + [(c, c) for c in q["choices"]],
            )
        elif q["type"] == "number":
            fields[q["key"]] = forms.FloatField(
                label=q["label"], required=required, min_value=q.get("min"), max_value=q.get("max")
            )
        else:
            fields[q["key"]] = forms.CharField(label=q["label"], required=required, max_length=1000)
    return type("CovariateForm", (forms.Form,), fields)
