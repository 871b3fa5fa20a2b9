from django import forms

from audit.models import RewardModel

MAX_UPLOAD = 50 * 1024 * 1024


class AuditForm(forms.Form):
    reward_model = forms.ModelChoiceField(
        queryset=RewardModel.objects.none(),
        help_text="Your reward models (add one under Reward-model audits in the admin).",
    )
    scores = forms.FileField(
        required=False,
        help_text="For a model of uploaded scores: JSONL, one line per scored side: "
        '{"stimulus": 12, "side": "treated", "score": 0.83}. The scoring sheet lists the sides.',
    )

    def __init__(self, *args, models=None, **kwargs):
        super().__init__(*args, **kwargs)
        if models is not None:
            self.fields["reward_model"].queryset = models

    def clean_scores(self):
        upload = self.cleaned_data.get("scores")
        if upload is not None and upload.size > MAX_UPLOAD:
            raise forms.ValidationError(f"the file is over {MAX_UPLOAD // 2**20} MB: split it")
        return upload

    def clean(self):
        data = super().clean()
        model = data.get("reward_model")
        if model and model.source == RewardModel.Source.SCORES and not data.get("scores"):
            already = model.scores.exists()
            if not already:
                raise forms.ValidationError(
                    f"{model.name} takes uploaded scores: choose the scores file to upload"
                )
        return data
