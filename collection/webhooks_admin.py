"""Webhooks in the admin, for the studies a researcher may edit (readers do not see them:
each shows its secret, to check signatures), with their deliveries and how they went."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from collection.access import studies_editable
from collection.admin import STUDY_FILTER, OwnedByStudyMixin
from collection.models import Webhook, WebhookDelivery


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=Webhook.Event.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Webhook
        fields = ("study", "url", "events", "active")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.startswith(("http://", "https://")):
            raise forms.ValidationError("use an http:// or https:// address")
        return url


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("created_at", "event", "status", "attempts", "last_status_code", "last_error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-created_at",)
    verbose_name_plural = "deliveries (newest first)"

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at")


@admin.register(Webhook)
class WebhookAdmin(OwnedByStudyMixin, admin.ModelAdmin):
    form = WebhookForm
    list_display = ("url", "study", "events", "active", "created_at")
    list_filter = (STUDY_FILTER, "active")
    readonly_fields = ("signing_secret",)
    inlines = (DeliveryInline,)

    def get_queryset(self, request):
        # Editors only: a webhook's secret is not for read-only collaborators.
        queryset = super().get_queryset(request)
        return queryset.filter(study__in=studies_editable(user=request.user))

    def get_fields(self, request, obj=None):
        fields = ["study", "url", "events", "active"]
        return fields + ["signing_secret"] if obj is not None else fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "study":
            kwargs["queryset"] = studies_editable(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="signing secret")
    def signing_secret(self, obj: Webhook) -> str:
        return format_html(
            '<code id="webhook-secret">{}</code><div class="help">X-Counterpoint-Signature '
            "is sha256= the HMAC-SHA256 of '&lt;X-Counterpoint-Timestamp&gt;.&lt;body&gt;' "
            "with this secret.</div>",
            obj.secret,
        )
