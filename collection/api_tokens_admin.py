"""API tokens in the admin: each researcher makes, sees and revokes their own. A new
token is shown once, in the page's message; only its hash and prefix are kept."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from collection.models import ApiToken
from collection.services.api_tokens import api_token_create, api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("name",)
    actions = ("revoke",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(user=request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        record, token = api_token_create(user=request.user, name=form.cleaned_data["name"])
        obj.pk = record.pk
        self.message_user(
            request,
            f"Your new API token (copy it now: it is shown only once): {token}",
            messages.WARNING,
        )

    def log_addition(self, request, obj, message):
        pass  # the admin log would store the object's repr; nothing secret is in it anyway

    @admin.action(description="Revoke the selected tokens", permissions=["add"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, f"{queryset.count()} token(s) revoked.")
