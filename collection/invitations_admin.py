"""Invitation links in the admin: made in batches for a study the researcher may edit,
shown once (only their hashes are stored), listed afterwards without their tokens."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from collection.access import studies_editable, studies_readable
from collection.admin import STUDY_FILTER
from collection.models import Invitation, Study
from collection.services.invitations import (
    MAX_INVITATIONS_AT_ONCE,
    invitation_link,
    invitations_create,
)


class InvitationBatchForm(forms.Form):
    study = forms.ModelChoiceField(queryset=Study.objects.none())
    count = forms.IntegerField(
        min_value=1,
        max_value=MAX_INVITATIONS_AT_ONCE,
        initial=10,
        help_text=f"How many single-use links to make (at most {MAX_INVITATIONS_AT_ONCE}).",
    )
    note = forms.CharField(
        max_length=200, required=False, help_text="For you: whom these links are for."
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        study = self.fields["study"]
        assert isinstance(study, forms.ModelChoiceField)
        study.queryset = studies_editable(user=user)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("pk", "study", "note", "created_at", "created_by", "used_at")
    list_filter = (STUDY_FILTER, ("used_at", admin.EmptyFieldListFilter))
    fields = ("study", "note", "created_at", "created_by", "used_at", "enrollment")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request).select_related("study", "created_by")
        return queryset.filter(study__in=studies_readable(user=request.user))

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        """A batch of links, shown on this page once: nothing can show them again."""
        if not self.has_add_permission(request):
            return self.changelist_view(request)  # Django answers 403 for us there
        form = InvitationBatchForm(request.POST or None, user=request.user)
        links: list[str] = []
        if request.method == "POST" and form.is_valid():
            study = form.cleaned_data["study"]
            tokens = invitations_create(
                study=study,
                count=form.cleaned_data["count"],
                note=form.cleaned_data["note"],
                created_by=request.user if request.user.is_authenticated else None,
            )
            entry = request.build_absolute_uri(reverse("collection:entry", args=[study.slug]))
            links = [invitation_link(base_entry_url=entry, token=t) for t in tokens]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{len(links)} invitation links" if links else "Make invitation links",
            "form": form,
            "links": links,
            "links_text": "\n".join(links),
        }
        return TemplateResponse(request, "admin/collection/invitation/batch.html", context)
