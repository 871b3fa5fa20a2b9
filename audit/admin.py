"""Reward models in the admin: add one by training the built-in text model on an export,
by naming an HTTP scoring endpoint, or as a holder of uploaded scores. Researchers see
and use their own."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from audit.access import reward_models_usable
from audit.forms import MAX_UPLOAD
from audit.models import RewardModel
from audit.text_model import TextRewardModel, preference_pairs_read, text_model_train


class RewardModelForm(forms.ModelForm):
    export = forms.FileField(
        required=False,
        label="Training export (text models)",
        help_text="A TRL preference export of a study (JSONL, standard or conversational): "
        "the built-in model is trained on its chosen and rejected answers.",
    )
    l2 = forms.FloatField(
        initial=1.0,
        min_value=0.0,
        label="Ridge penalty (text models)",
        help_text="l2 on the weights; 0 for plain maximum likelihood.",
    )

    class Meta:
        model = RewardModel
        fields = ["name", "source", "endpoint_url", "description"]

    def clean(self):
        data = super().clean()
        source = data.get("source")
        if source == RewardModel.Source.HTTP and not data.get("endpoint_url"):
            self.add_error("endpoint_url", "an HTTP model needs the endpoint's URL")
        if source == RewardModel.Source.TEXT and not self.instance.pk:
            upload = data.get("export")
            if upload is None:
                self.add_error("export", "a text model is trained on an export: choose the file")
            elif upload.size > MAX_UPLOAD:
                self.add_error("export", f"the file is over {MAX_UPLOAD // 2**20} MB")
            else:
                try:
                    chosen, rejected = preference_pairs_read(upload)
                    self.trained: TextRewardModel = text_model_train(
                        chosen, rejected, l2=data.get("l2") or 0.0
                    )
                except ValueError as error:
                    self.add_error("export", f"cannot train on this file: {error}")
        return data


@admin.register(RewardModel)
class RewardModelAdmin(admin.ModelAdmin):
    form = RewardModelForm
    list_display = ["name", "source", "owner", "created_at", "score_count"]
    readonly_fields = ["owner", "created_at", "trained_on"]

    def get_queryset(self, request: HttpRequest):
        return reward_models_usable(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # its scores and audits are research data

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "source"] if obj else self.readonly_fields

    def get_fields(self, request, obj=None):
        fields = ["name", "source", "endpoint_url", "description"]
        return fields + (["owner", "created_at", "trained_on"] if obj else ["export", "l2"])

    @admin.display(description="scores stored")
    def score_count(self, obj: RewardModel) -> int:
        return obj.scores.count()

    @admin.display(description="trained on")
    def trained_on(self, obj: RewardModel) -> str:
        if obj.source != RewardModel.Source.TEXT:
            return "-"
        return f"{obj.parameters.get('pairs')} pairs, l2 {obj.parameters.get('l2')}"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
            if obj.source == RewardModel.Source.TEXT:
                obj.parameters = form.trained.to_json()
                obj.description = obj.description or (
                    f"Bradley-Terry on text features, {form.trained.pairs} pairs."
                )
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request, "Audit it from a study's results page, section Reward-model audit."
        )
        return super().response_add(request, obj, post_url_continue)
