import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from collection.access import covariate_schemas_usable, studies_editable, studies_readable
from collection.exports.forms import ExportForm
from collection.exports.services import ExportInvalid, export_request
from collection.models import (
    Assignment,
    CheckAnswer,
    Enrollment,
    Label,
    PracticePair,
    Study,
    StudyAccess,
)
from collection.pool import study_slots_build
from collection.pretest import pretest_results, study_validation_refresh
from collection.preview import preview_page
from collection.recruitment import PROLIFIC_QUERY
from collection.selectors import completion_code_issued
from collection.services.studies import study_clone, study_launch
from interventions.library_access import stimulus_sets_owned
from interventions.models import StimulusSet


class OwnedByStudyMixin:
    """Researchers see only the studies they own or were granted (collection.access);
    changing a study needs the edit grant."""

    study_path = "study"

    def _study_lookup(self) -> str:
        return "pk__in" if self.study_path == "" else f"{self.study_path}__in"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset.filter(**{self._study_lookup(): studies_readable(user=request.user)})

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)  # type: ignore[misc]
        if not allowed or obj is None:
            return allowed
        editable = studies_editable(user=request.user)
        return type(obj).objects.filter(pk=obj.pk, **{self._study_lookup(): editable}).exists()


# Only the studies in the admin's (scoped) rows: another researcher's titles never show.
STUDY_FILTER = ("study", admin.RelatedOnlyFieldListFilter)


class ReadOnlyMixin:
    """Research records are append-only: the admin shows them and never edits them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StudyAccessForm(forms.ModelForm):
    """Grants by username, so the form lists no other researcher's name."""

    username = forms.CharField(help_text="The researcher's username.")

    class Meta:
        model = StudyAccess
        fields = ("role",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["username"].initial = self.instance.user.get_username()

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        user = get_user_model().objects.filter(username=username, is_staff=True).first()
        if user is None:
            raise forms.ValidationError(
                f"no researcher account is called {username!r}; check the spelling or ask "
                "an administrator to create it"
            )
        self.instance.user = user
        return username


class StudyAccessInline(admin.TabularInline):
    model = StudyAccess
    form = StudyAccessForm
    fields = ("username", "role")
    extra = 0
    verbose_name = "collaborator"

    def _owner(self, request, obj) -> bool:
        return obj is not None and (
            request.user.is_superuser or obj.owners.filter(pk=request.user.pk).exists()
        )

    # Only the study's owners grant or withdraw access.
    def has_add_permission(self, request, obj=None):
        return self._owner(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._owner(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._owner(request, obj)

    # The study admin already limits the page to studies the user may read.
    def has_view_permission(self, request, obj=None):
        return True


class PracticePairInline(admin.StackedInline):
    model = PracticePair
    fields = ("position", "prompt", "left", "right", "expected", "feedback")
    extra = 0
    verbose_name = "practice pair"
    verbose_name_plural = (
        "practice pairs: answered before the study's pairs, with your feedback; not labels"
    )


PREVIEWS = (
    ("consent", "consent"),
    ("about_you", "questionnaire"),
    ("practice", "practice"),
    ("label", "a pair"),
    ("done", "the end"),
)

# Design and analysis settings that labels already collected depend on.
FROZEN_WHEN_LAUNCHED = (
    "stimulus_sets", "design_name", "design_params", "order_scheme", "order_block_size",
    "seed", "replication_factor", "labels_per_annotator", "attention_check_rate",
    "estimand", "ties", "strength", "min_annotators", "require_approved", "covariate_schema",
    "kind", "require_validated",
)  # fmt: skip


@admin.register(Study)
class StudyAdmin(OwnedByStudyMixin, admin.ModelAdmin):
    study_path = ""
    list_display = ("title", "slug", "kind", "status", "labels", "entry_link")
    list_filter = ("status", "kind")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("stimulus_sets",)
    readonly_fields = ("entry_link", "results_link", "owner_names")
    inlines = (StudyAccessInline, PracticePairInline)
    fieldsets = (
        ("Results", {"fields": ("entry_link", "results_link")}),
        (
            "Study",
            {
                "fields": (
                    "title",
                    "slug",
                    "status",
                    "owner_names",
                    "kind",
                    "exports_link",
                    "stimulus_sets",
                    "require_approved",
                    "require_validated",
                    "attention_min_share",
                )
            },
        ),
        (
            "Pretest (stimulus validation)",
            {
                "fields": (
                    "pretest_min_answers",
                    "pretest_min_identified",
                    "pretest_min_same_meaning",
                    "pretest_results",
                ),
                "description": "For a study of kind 'stimulus validation': annotators answer "
                "which response shows the intended attribute and whether the two otherwise "
                "say the same thing. A pair passes with at least the minimum answers and "
                "both shares at or above their minimum; the thresholds may change while it "
                "runs (the verdicts follow).",
            },
        ),
        (
            "Design",
            {
                "fields": (
                    "design_name",
                    "design_params",
                    "order_scheme",
                    "order_block_size",
                    "seed",
                    "replication_factor",
                    "labels_per_annotator",
                    "label_target",
                    "attention_check_rate",
                    "assignment_ttl_seconds",
                    "stopping_rule",
                )
            },
        ),
        (
            "Analysis",
            {"fields": ("estimand", "ties", "strength", "min_annotators")},
        ),
        (
            "What annotators see",
            {
                "fields": (
                    "consent_text",
                    "expected_duration",
                    "payment",
                    "contact",
                    "instructions",
                    "covariate_schema",
                    "require_both_opened",
                    "preview_links",
                )
            },
        ),
        (
            "Recruitment",
            {
                "fields": (
                    "prolific_study_url",
                    "invitation_only",
                    "completion_url_template",
                    "completion_code",
                    "no_consent_code",
                    "returned_code",
                ),
                "description": "Paste the study URL into Prolific, which fills in each "
                "participant's ids. Participants from Prolific are sent to the completion "
                "URL with the code of how they left: finished, declined consent, or "
                "stopped and returned. A blank code shows a thank-you page instead.",
            },
        ),
    )
    actions = ("launch", "pause", "clone", "pool_extend", "export_jsonl")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        # A fresh root seed to start from (stored with the study: every draw replays from
        # it); the researcher may type their own.
        return {"seed": secrets.randbits(31), **super().get_changeform_initial_data(request)}

    class Media:
        js = ("collection/admin_copy.js",)

    def get_readonly_fields(self, request, obj=None):
        # Added here rather than in readonly_fields, which the analysis app's subclass
        # (the study page with its estimates) replaces.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != Study.Status.DRAFT:
            # Randomisation and analysis must not change under collected labels: clone
            # the study to run a different design.
            fields += FROZEN_WHEN_LAUNCHED
        fields += ["prolific_study_url", "pretest_results", "exports_link", "preview_links"]
        return tuple(dict.fromkeys(fields))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            # The absolute address needs the request's host, which a readonly field's
            # display method is not given: it reads it from the instance being shown.
            obj.entry_url_absolute = request.build_absolute_uri(
                reverse("collection:entry", args=[obj.slug])
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            obj.owners.add(request.user)
        elif obj.kind == Study.Kind.PRETEST and THRESHOLDS & set(form.changed_data):
            study_validation_refresh(study=obj)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "stimulus_sets":
            # Their own sets, and those already in studies they can read.
            kwargs["queryset"] = StimulusSet.objects.filter(
                Q(pk__in=stimulus_sets_owned(user=request.user))
                | Q(studies__in=studies_readable(user=request.user))
            ).distinct()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "completion_url_template" and field is not None:
            field.widget.attrs["class"] = "vLargeTextField"  # a URL: the full width
        return field

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "covariate_schema":
            kwargs["queryset"] = covariate_schemas_usable(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_formset(self, request, form, formset, change):
        if formset.model is not StudyAccess:
            return super().save_formset(request, form, formset, change)
        for grant in formset.save(commit=False):
            grant.granted_by = grant.granted_by or request.user
            grant.save()
        for withdrawn in formset.deleted_objects:
            withdrawn.delete()

    @admin.display(description="owners")
    def owner_names(self, obj: Study) -> str:
        if not obj.pk:
            return "you, once saved"
        return ", ".join(sorted(u.get_username() for u in obj.owners.all()))

    @admin.display(description="labels")
    def labels(self, obj: Study) -> int:
        return obj.labels.filter(supersedes__isnull=True).count()

    @admin.display(description="annotator link")
    def entry_link(self, obj: Study) -> str:
        if not obj.pk:
            return "–"
        url = f"/s/{obj.slug}/"
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="study URL for Prolific")
    def prolific_study_url(self, obj: Study) -> str:
        entry = getattr(obj, "entry_url_absolute", None)
        if not obj.pk or entry is None:
            return "shown once the study is saved"
        url = entry + PROLIFIC_QUERY
        return format_html(
            '<input type="text" readonly value="{}" id="prolific-study-url" class="vLargeTextField"'
            ' aria-label="study URL for Prolific"> <button type="button" class="button"'
            ' data-copy="prolific-study-url">Copy</button>',
            url,
        )

    @admin.display(description="pretest results per pair")
    def pretest_results(self, obj: Study) -> str:
        if not obj.pk or obj.kind != Study.Kind.PRETEST:
            return "Only a study of kind 'stimulus validation' has pretest results."
        rows = [
            (
                reverse("admin:interventions_stimulus_change", args=[r.stimulus_id]),
                r.stimulus_id,
                r.cell,
                r.n,
                _share(r.identified_share),
                _share(r.same_meaning_share),
                r.verdict,
            )
            for r in pretest_results(study=obj)
        ]
        if not rows:
            return "No answers yet."
        head = mark_safe(  # noqa: S308 - a constant
            "<tr><th>pair</th><th>intervention</th><th>answers</th>"
            "<th>picked the treated side</th><th>same meaning</th><th>verdict</th></tr>"
        )
        body = format_html_join(
            "",
            '<tr><td><a href="{}">#{}</a></td>' + "<td>{}</td>" * 5 + "</tr>",
            rows,
        )
        return format_html('<table id="pretest-results">{}{}</table>', head, body)

    @admin.display(description="results page")
    def results_link(self, obj: Study) -> str:
        if not obj.pk:
            return "–"
        url = reverse("analysis:results", args=[obj.slug])
        return format_html('<a href="{}">live results, confidence sequences, plot</a>', url)

    @admin.action(description="Launch (checks first; the design is frozen from then on)")
    def launch(self, request, queryset):
        for study in queryset.filter(pk__in=studies_editable(user=request.user)):
            problems = study_launch(study=study)
            if problems:
                self.message_user(
                    request,
                    f"'{study.title}' was not launched: " + "; ".join(problems) + ".",
                    messages.ERROR,
                )
            else:
                self.message_user(request, f"'{study.title}' is running.", messages.SUCCESS)

    @admin.action(description="Clone (a draft copy of the design, owned by you)")
    def clone(self, request, queryset):
        for study in queryset:
            copy = study_clone(study=study, owner_id=request.user.pk)
            url = reverse("admin:collection_study_change", args=[copy.pk])
            self.message_user(
                request, format_html('Cloned into <a href="{}">{}</a>.', url, copy.title)
            )

    @admin.action(description="Add newly eligible pairs (generated or approved since) to the pool")
    def pool_extend(self, request, queryset):
        editable = queryset.filter(pk__in=studies_editable(user=request.user))
        added = sum(study_slots_build(study=study) for study in editable)
        self.message_user(request, f"{added} pair(s) added to the pool.", messages.SUCCESS)

    @admin.action(description="Pause")
    def pause(self, request, queryset):
        updated = queryset.filter(status=Study.Status.RUNNING).update(status=Study.Status.PAUSED)
        self.message_user(request, f"{updated} study(ies) paused.", messages.SUCCESS)

    @admin.action(description="Export dataset (TRL, KTO or label table; JSONL or Parquet)")
    def export_jsonl(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one study to export.", messages.ERROR)
            return None
        return HttpResponseRedirect(
            reverse("admin:collection_study_exports", args=[queryset.get().pk])
        )

    @admin.display(description="exports")
    def exports_link(self, obj: Study) -> str:
        if not obj.pk:
            return "–"
        url = reverse("admin:collection_study_exports", args=[obj.pk])
        return format_html('<a href="{}">export the dataset; past exports</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view(self.exports_view)
        preview = self.admin_site.admin_view(self.preview_view)
        own = [
            path("<int:pk>/export/", view, name="collection_study_exports"),
            path("<int:pk>/preview/<str:page>/", preview, name="collection_study_preview"),
        ]
        return own + super().get_urls()

    def preview_view(self, request: HttpRequest, pk: int, page: str) -> HttpResponse:
        """An annotator page as a participant sees it; nothing is recorded (a form sent
        from it shows the page again)."""
        study = studies_readable(user=request.user).filter(pk=pk).first()
        if study is None:
            raise Http404("no such study")
        return preview_page(request, study, page)

    @admin.display(description="preview")
    def preview_links(self, obj: Study) -> str:
        if not obj.pk:
            return "shown once the study is saved"
        links = [
            (reverse("admin:collection_study_preview", args=[obj.pk, page]), label)
            for page, label in PREVIEWS
        ]
        return format_html(
            '<span id="preview-links">{}</span> <div class="help">Each page as a participant '
            "sees it, with this study's texts, questionnaire, practice and first pair; "
            "nothing is recorded.</div>",
            format_html_join(" · ", '<a href="{}" target="_blank">{}</a>', links),
        )

    def exports_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Ask for an export and list the study's past ones (readers may export)."""
        study = studies_readable(user=request.user).filter(pk=pk).first()
        if study is None:
            raise Http404("no such study")
        form = ExportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                export = export_request(
                    study=study,
                    requested_by=request.user,  # type: ignore[arg-type]
                    format=form.cleaned_data["format"],
                    file_format=form.cleaned_data["file_format"],
                    options=form.options(),
                )
            except ExportInvalid as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    f"Export #{export.pk} is queued; its download link appears below when "
                    "the worker has built it (reload the page).",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Export {study.title}",
            "study": study,
            "form": form,
            "exports": study.exports.select_related("requested_by").order_by("-pk")[:50],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/collection/study/exports.html", context)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


# Pretest settings whose change moves the verdicts.
THRESHOLDS = {"pretest_min_answers", "pretest_min_identified", "pretest_min_same_meaning"}


@admin.register(Enrollment)
class EnrollmentAdmin(OwnedByStudyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "annotator",
        "study",
        "consented_at",
        "completed_at",
        "declined_at",
        "returned_at",
        "completion_code",
    )
    list_filter = (STUDY_FILTER,)
    list_select_related = ("annotator", "study")

    @admin.display(description="completion code")
    def completion_code(self, obj: Enrollment) -> str:
        """The code this participant was given, to check against the one they submit."""
        if obj.completed_at is None:
            return "–"
        issued = completion_code_issued(
            study_id=obj.study_id,
            study_code=obj.study.completion_code,
            enrollment_id=obj.pk,
            attention_min=obj.study.attention_min_share,
        )
        return issued or "none: attention checks below the study's rule"


@admin.register(Assignment)
class AssignmentAdmin(OwnedByStudyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "study",
        "annotator",
        "stimulus",
        "cell",
        "state",
        "is_attention_check",
        "treated_on_left",
        "propensity",
        "served_at",
        "expires_at",
    )
    list_filter = (STUDY_FILTER, "design_name", "state", "is_attention_check")


@admin.register(Label)
class LabelAdmin(OwnedByStudyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("pk", "study", "choice", "strength", "outcome", "created_at")
    list_filter = (STUDY_FILTER, "choice")


@admin.register(CheckAnswer)
class CheckAnswerAdmin(OwnedByStudyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "pk", "study", "stimulus", "identified", "identified_treated", "same_meaning",
        "created_at",
    )  # fmt: skip
    list_filter = (STUDY_FILTER, "identified_treated", "same_meaning")


# The annotators' records, scoped to readable studies (registered here, above annotators).
from collection import (  # noqa: E402, F401
    api_tokens_admin,
    invitations_admin,
    people_admin,
    webhooks_admin,
)
