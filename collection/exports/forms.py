from django import forms

from collection.models import Export


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=Export.Format.choices)
    file_format = forms.ChoiceField(choices=Export.FileFormat.choices)
    exclude_ties = forms.BooleanField(
        required=False, help_text="Leave ties out (the data card counts them)."
    )
    exclude_attention_checks = forms.BooleanField(
        required=False, help_text="Leave every attention-check label out."
    )
    exclude_attention_failures = forms.BooleanField(
        required=False, help_text="Leave out attention checks not answered as asked."
    )
    min_attention_share = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        help_text="Leave out every label of annotators who answered a smaller share of "
        "their attention checks as asked (blank: keep everyone).",
    )

    def options(self) -> dict[str, object]:
        data = self.cleaned_data
        return {k: data[k] for k in data if k not in ("format", "file_format")}
