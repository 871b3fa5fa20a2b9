"""The study admin's stopping rule as a form (no JSON to write): each condition a field,
checked by the rule's own parser, stored as the JSON object analysis.stopping reads."""

from django import forms

from analysis.stopping import stopping_rule_parse
from collection.models import Study

# Form field -> key of Study.stopping_rule.
STOPPING_FIELDS = {
    "stop_cs_excludes_zero": "cs_excludes_zero",
    "stop_cs_width_below": "cs_width_below",
    "stop_label_budget": "label_budget",
    "stop_alpha": "alpha",
    "stop_planned_annotators": "planned_annotators",
}


class StudyStoppingForm(forms.ModelForm):
    stop_cs_excludes_zero = forms.BooleanField(
        required=False,
        label="Stop once every effect is clear",
        help_text="Pause when, for every intervention, the anytime-valid confidence sequence "
        "of its effect excludes zero.",
    )
    stop_cs_width_below = forms.FloatField(
        required=False,
        min_value=0.001,
        max_value=1,
        label="Stop once every sequence is narrower than",
        help_text="On the effect scale, e.g. 0.05: pause when every intervention's confidence "
        "sequence is this precise. Blank: no such condition.",
    )
    stop_label_budget = forms.IntegerField(
        required=False,
        min_value=1,
        label="Stop at this many labels",
        help_text="Blank: no budget.",
    )
    stop_alpha = forms.FloatField(
        required=False,
        min_value=0.001,
        max_value=0.5,
        label="Alpha of the sequences",
        help_text="1 - their level; blank: 0.05. Fixed at the study's first refresh.",
    )
    stop_planned_annotators = forms.IntegerField(
        required=False,
        min_value=1,
        label="Annotators the sequences are tuned for",
        help_text="Where they are tightest; blank: label target / labels per annotator, or "
        "100. Fixed at the study's first refresh.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rule = (self.instance.stopping_rule or {}) if self.instance.pk else {}
        if isinstance(rule, dict):
            for name, key in STOPPING_FIELDS.items():
                if key in rule:
                    self.initial[name] = rule[key]

    def clean(self):
        data = super().clean() or {}
        rule: dict[str, object] = {}
        for name, key in STOPPING_FIELDS.items():
            value = data.get(name)
            if value not in (None, False, ""):
                rule[key] = value
        probe = Study(
            stopping_rule=rule,
            label_target=data.get("label_target", self.instance.label_target),
            labels_per_annotator=data.get(
                "labels_per_annotator", self.instance.labels_per_annotator
            ),
        )
        try:
            stopping_rule_parse(study=probe)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        self.instance.stopping_rule = rule
        return data
