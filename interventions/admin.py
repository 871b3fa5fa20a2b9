import secrets
from collections.abc import Iterable

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from interventions.attention import AttentionRefused, attention_checks_add
from interventions.import_admin import SKIP_HELP, SKIP_LABEL, ImportModelAdmin, ImportOutcome
from interventions.import_rows import Line
from interventions.library_access import (
    interventions_usable,
    owned_filter,
    owns,
    prompt_sources_usable,
)
from interventions.models import Intervention, Prompt, Response, Stimulus, StimulusSet
from interventions.pair_imports import PAIR_FORMATS
from interventions.review import ReviewRefused, edit_diff, stimuli_review
from interventions.selectors import stimulus_set_cell_counts, stimulus_set_check_counts
from interventions.services import (
    builtin_missing,
    interventions_install_builtin,
    prompts_import,
    stimulus_pairs_import,
    stimulus_set_generation_enqueue,
)


class OwnedLibraryMixin:
    """Scope an interventions admin to the researcher's own library
    (``interventions.library_access``): lists, change pages, list filters and form
    choices; change and delete only what they own. ``owner_path`` leads to the owner."""

    owner_path = "owner"
    shared_when_unowned = False

    def get_queryset(self, request):
        rows = super().get_queryset(request)  # type: ignore[misc]
        shared = self.shared_when_unowned
        return rows.filter(owned_filter(request.user, self.owner_path, shared_when_unowned=shared))

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)  # type: ignore[misc]
        return allowed and (obj is None or owns(request.user, obj, self.owner_path))

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)  # type: ignore[misc]
        return allowed and (obj is None or owns(request.user, obj, self.owner_path))

    def get_list_filter(self, request):
        # A related list filter would list every set in the database: offer only the
        # ones this researcher can see.
        filters = super().get_list_filter(request)  # type: ignore[misc]
        return [
            (f, admin.RelatedOnlyFieldListFilter) if f in ("stimulus_set", "prompt") else f
            for f in filters
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A typed raw id must not reach into another researcher's library either.
        scoped = {Prompt: "owner", Response: "prompt__owner", StimulusSet: "owner"}
        if db_field.related_model in scoped:
            path = scoped[db_field.related_model]
            kwargs["queryset"] = db_field.related_model._default_manager.filter(
                owned_filter(request.user, path)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def save_model(self, request, obj, form, change) -> None:
        if not change and self.owner_path == "owner" and obj.owner_id is None:
            obj.owner = request.user
        super().save_model(request, obj, form, change)  # type: ignore[misc]


class PromptImportForm(forms.Form):
    file = forms.FileField(
        help_text="JSONL, or the same gzipped (.gz): one {prompt_id, prompt, responses, "
        "category} per line."
    )
    source = forms.CharField(
        required=False, max_length=200, help_text="Source name; defaults to the file name."
    )
    skip_invalid = forms.BooleanField(required=False, label=SKIP_LABEL, help_text=SKIP_HELP)


class PairImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or JSONL by the format below, or the same gzipped (.gz).")
    format = forms.ChoiceField(choices=[(f, f) for f in PAIR_FORMATS])
    stimulus_set_name = forms.CharField(max_length=200, help_text="Name of the new stimulus set.")
    source = forms.CharField(
        required=False, max_length=200, help_text="Source name; defaults to the file name."
    )
    intervention = forms.CharField(
        required=False,
        max_length=200,
        help_text="Cell name for TRL and HH-RLHF rows (default 'chosen').",
    )
    skip_invalid = forms.BooleanField(required=False, label=SKIP_LABEL, help_text=SKIP_HELP)


@admin.register(Prompt)
class PromptAdmin(OwnedLibraryMixin, ImportModelAdmin):
    readonly_fields = ("owner",)
    list_display = ("external_id", "source", "category", "created_at")
    list_filter = ("source", "category")
    search_fields = ("external_id", "text")
    change_list_template = "admin/interventions/prompt/change_list.html"

    import_url_name = "prompt_import"
    import_form = PromptImportForm
    import_template = "admin/interventions/prompt/import.html"
    import_title = "Import prompts"

    def run_import(
        self, data: dict, lines: Iterable[Line], file_name: str, owner_id: int | None
    ) -> ImportOutcome:
        summary = prompts_import(
            lines=lines,
            source=data["source"] or file_name,
            skip_invalid=data["skip_invalid"],
            owner_id=owner_id,
        )
        return ImportOutcome(
            f"Imported {summary.prompts} prompts and {summary.responses} responses.",
            summary.invalid_rows,
            reverse("admin:interventions_prompt_changelist"),
        )


@admin.register(Response)
class ResponseAdmin(OwnedLibraryMixin, admin.ModelAdmin):
    owner_path = "prompt__owner"
    list_display = ("pk", "model_name", "origin", "generator", "prompt")
    list_filter = ("origin", "model_name", "generator")
    raw_id_fields = ("prompt", "parent")
    search_fields = ("text",)


@admin.register(Intervention)
class InterventionAdmin(OwnedLibraryMixin, admin.ModelAdmin):
    shared_when_unowned = True  # the built-in catalogue: read-only but for administrators
    exclude = ("owner",)
    list_display = (
        "name", "attribute", "transform", "backend", "check_measure", "check_threshold"
    )  # fmt: skip
    list_filter = ("attribute", "backend")

    change_list_template = "admin/interventions/intervention/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.install_view)
        return [
            path("install/", view, name="interventions_intervention_install"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        # A button, not an action: Django shows no action bar while the list is empty.
        context = {
            "can_install": self.has_add_permission(request),
            "missing": builtin_missing(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def install_view(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and self.has_add_permission(request):
            created = interventions_install_builtin()
            self.message_user(request, f"Added {created} built-in interventions.", messages.INFO)
        return redirect("admin:interventions_intervention_changelist")


@admin.register(StimulusSet)
class StimulusSetAdmin(OwnedLibraryMixin, ImportModelAdmin):
    exclude = ("owner",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "response_source":
            sources = prompt_sources_usable(user=request.user)
            return forms.ChoiceField(
                choices=[("", "---------"), *((source, source) for source in sources)],
                label="Response source",
                help_text="The prompt import whose responses the pairs are made from "
                "(Prompts: Import). Only your imports are listed.",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        # A fresh seed to start from (stored with the set, so every transform can be
        # replayed); the researcher may type their own.
        return {"seed": secrets.randbits(31), **super().get_changeform_initial_data(request)}

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "interventions":
            kwargs["queryset"] = interventions_usable(user=request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    list_display = (
        "name", "design", "response_source", "response_model", "generation_status", "progress"
    )  # fmt: skip
    readonly_fields = (
        "generation_status",
        "generation_total",
        "generation_done",
        "generation_error",
        "check_counts",
        "cell_counts",
    )
    filter_horizontal = ("interventions",)
    actions = ("generate", "attention_checks")
    change_list_template = "admin/interventions/stimulusset/change_list.html"

    import_url_name = "stimulus_pairs_import"
    import_form = PairImportForm
    import_template = "admin/interventions/stimulusset/import.html"
    import_title = "Import pairs"

    def run_import(
        self, data: dict, lines: Iterable[Line], file_name: str, owner_id: int | None
    ) -> ImportOutcome:
        summary = stimulus_pairs_import(
            lines=lines,
            format=data["format"],
            source=data["source"] or file_name,
            stimulus_set_name=data["stimulus_set_name"],
            intervention=data["intervention"],
            skip_invalid=data["skip_invalid"],
            owner_id=owner_id,
        )
        return ImportOutcome(
            f"Imported {summary.stimuli} pairs into stimulus set '{summary.stimulus_set.name}' "
            f"({summary.rejected} failed their intervention's manipulation check).",
            summary.invalid_rows,
            reverse("admin:interventions_stimulusset_change", args=[summary.stimulus_set.pk]),
        )

    @admin.display(description="cells (passed / made)")
    def cell_counts(self, obj: StimulusSet) -> str:
        counts = stimulus_set_cell_counts(stimulus_set=obj)
        rows = [(cell, c["passed"], c["total"]) for cell, c in counts.items()]
        return format_html_join("", "<div>{}: {} / {}</div>", rows) or "none yet"

    @admin.display(description="progress")
    def progress(self, obj: StimulusSet) -> str:
        return f"{obj.generation_done}/{obj.generation_total}"

    @admin.display(description="manipulation checks")
    def check_counts(self, obj: StimulusSet) -> str:
        counts = stimulus_set_check_counts(stimulus_set=obj)
        return format_html_join("", "<div>{}: {}</div>", sorted(counts.items())) or "none yet"

    @admin.action(
        description="Add 5 attention checks (instructed answers) to each", permissions=["change"]
    )
    def attention_checks(self, request: HttpRequest, queryset) -> None:
        for stimulus_set in queryset:
            try:
                made = attention_checks_add(
                    stimulus_set=stimulus_set, count=5, seed=secrets.randbits(32)
                )
            except AttentionRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(
                request,
                f"{stimulus_set.name}: added {len(made)} attention checks, whose right "
                "answer is the real one (the other says to choose it).",
                messages.SUCCESS,
            )

    @admin.action(description="Generate stimuli (on a worker)")
    def generate(self, request: HttpRequest, queryset) -> None:
        for stimulus_set in queryset:
            stimulus_set_generation_enqueue(stimulus_set=stimulus_set)
        self.message_user(
            request, f"Queued generation for {queryset.count()} set(s).", messages.INFO
        )


@admin.register(Stimulus)
class StimulusAdmin(OwnedLibraryMixin, admin.ModelAdmin):
    owner_path = "stimulus_set__owner"
    list_display = (
        "pk", "stimulus_set", "cell", "check_status", "review_status", "validation_status",
        "check_reason", "provenance", "review_link",
    )  # fmt: skip
    list_filter = (
        "stimulus_set", "check_status", "review_status", "validation_status", "cell",
        "provenance", "is_attention_check",
    )  # fmt: skip
    raw_id_fields = ("prompt", "control", "treated")
    readonly_fields = (
        "pair", "measures_control", "measures_treated", "check_status", "check_reason",
        "details", "review_status", "review_reason", "reviewed_by", "reviewed_at",
        "validation_status", "validation_n", "validation_identified", "validation_same_meaning",
    )  # fmt: skip
    actions = ("approve_selected", "reject_selected")

    class Media:
        css = {"all": ("interventions/review.css",)}

    def get_urls(self):
        view = self.admin_site.admin_view(self.review_view)
        return [
            path("<int:pk>/review/", view, name="interventions_stimulus_review"),
            *super().get_urls(),
        ]

    @admin.display(description="Control and treated, edits marked")
    def pair(self, obj: Stimulus) -> str:
        diff = edit_diff(obj.control.text, obj.treated.text)
        return render_to_string("admin/interventions/stimulus/pair_diff.html", {"diff": diff})

    @admin.display(description="Review")
    def review_link(self, obj: Stimulus) -> str:
        url = reverse("admin:interventions_stimulus_review", args=[obj.pk])
        return format_html('<a href="{}">review</a>', url)

    def has_review_permission(self, request) -> bool:
        # Reviewing records a verdict; it changes nothing of the pair itself, so viewing
        # the (owned, see get_queryset) stimuli is what it takes.
        return self.has_view_permission(request)

    @admin.action(description="Approve the selected pairs", permissions=["review"])
    def approve_selected(self, request: HttpRequest, queryset) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        try:
            n = stimuli_review(
                stimulus_ids=ids, approve=True, reason="", reviewer_id=request.user.pk
            )
        except ReviewRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Approved {n} pairs.", messages.SUCCESS)

    @admin.action(
        description="Reject the selected pairs (asks for a reason)", permissions=["change"]
    )
    def reject_selected(self, request: HttpRequest, queryset):
        error = ""
        if "confirm" in request.POST:
            ids = list(queryset.values_list("pk", flat=True))
            try:
                n = stimuli_review(
                    stimulus_ids=ids,
                    approve=False,
                    reason=request.POST.get("reason", ""),
                    reviewer_id=request.user.pk,
                )
            except ReviewRefused as exc:
                error = str(exc)
            else:
                self.message_user(request, f"Rejected {n} pairs.", messages.SUCCESS)
                return None
        context = {
            **self.admin_site.each_context(request),
            "stimuli": list(queryset),
            "error": error,
            "title": "Reject pairs",
        }
        return render(request, "admin/interventions/stimulus/reject.html", context)

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        stimulus = self.get_queryset(request).filter(pk=pk).first()
        if stimulus is None or not self.has_review_permission(request):
            return redirect("admin:interventions_stimulus_changelist")
        error, reason = "", request.POST.get("reason", "")
        if request.method == "POST":
            try:
                stimuli_review(
                    stimulus_ids=[stimulus.pk],
                    approve=request.POST.get("verdict") == "approve",
                    reason=reason,
                    reviewer_id=request.user.pk,
                )
            except ReviewRefused as exc:
                error = str(exc)
            else:
                following = (
                    self.get_queryset(request)
                    .filter(
                        stimulus_set=stimulus.stimulus_set,
                        check_status=Stimulus.CheckStatus.PASSED,
                        review_status=Stimulus.ReviewStatus.PENDING,
                    )
                    .order_by("pk")
                    .first()
                )
                if following is None:
                    self.message_user(request, "No pair of this set is waiting for review.")
                    return redirect("admin:interventions_stimulus_changelist")
                return redirect("admin:interventions_stimulus_review", following.pk)
        pending = Stimulus.objects.filter(
            stimulus_set=stimulus.stimulus_set,
            check_status=Stimulus.CheckStatus.PASSED,
            review_status=Stimulus.ReviewStatus.PENDING,
        ).count()
        context = {
            **self.admin_site.each_context(request),
            "stimulus": stimulus,
            "diff": edit_diff(stimulus.control.text, stimulus.treated.text),
            "pending": pending,
            "error": error,
            "reason": reason,
            "title": f"Review pair #{stimulus.pk}",
        }
        return render(request, "admin/interventions/stimulus/review.html", context)
