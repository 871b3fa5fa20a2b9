"""Every annotator page of a study as a participant sees it, for its researchers, built
from the study's own texts, questionnaire, practice and pairs. Nothing is written: no
enrollment, assignment or label; a form sent from a preview only shows the page again."""

import uuid
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from collection.forms import ConsentForm, LabelForm, PracticeForm, covariate_form_class
from collection.models import PracticePair, Study
from collection.rendering import markdown_render
from collection.selectors import Progress
from interventions.models import Stimulus

PAGES = ("consent", "about_you", "practice", "label", "done")


@dataclass(frozen=True)
class PreviewExit:
    code: str
    url: str = ""
    site: str = ""
    outcome: str = "completed"


def _pair(study: Study) -> Stimulus | None:
    return (
        Stimulus.objects.filter(
            stimulus_set__in=study.stimulus_sets.all(),
            check_status=Stimulus.CheckStatus.PASSED,
            is_attention_check=False,
        )
        .select_related("prompt", "control", "treated")
        .order_by("pk")
        .first()
    )


def preview_page(request: HttpRequest, study: Study, page: str) -> HttpResponse:
    """The page ``page`` of ``study`` (one of PAGES) with the study's content."""
    if page not in PAGES:
        raise Http404("no such annotator page")
    context: dict[str, object] = {"study": study, "preview": True}
    total = study.labels_per_annotator
    if page == "consent":
        context["form"] = ConsentForm()
        return render(request, "collection/consent.html", context)
    if page == "about_you":
        schema = study.covariate_schema
        if schema is None:
            raise Http404("this study has no questionnaire: participants skip the page")
        context["form"] = covariate_form_class(schema.questions)()
        return render(request, "collection/about_you.html", context)
    if page == "practice":
        pairs = list(PracticePair.objects.filter(study=study))
        if not pairs:
            raise Http404("this study has no practice pairs: participants skip the page")
        first = pairs[0]
        context.update(
            form=PracticeForm(initial={"practice_id": first.pk}),
            step={"number": 1, "total": len(pairs), "pair": first},
            prompt_html=markdown_render(first.prompt),
            left_html=markdown_render(first.left),
            right_html=markdown_render(first.right),
            progress=Progress(done=0, total=len(pairs)),
        )
        return render(request, "collection/practice.html", context)
    if page == "label":
        stimulus = _pair(study)
        if stimulus is None:
            raise Http404("no pair of this study has passed its checks yet")
        context.update(
            form=LabelForm(
                initial={"assignment_id": 0, "submission_id": uuid.uuid4()}, study=study
            ),
            prompt_html=markdown_render(stimulus.prompt.text),
            left_html=markdown_render(stimulus.control.text),
            right_html=markdown_render(stimulus.treated.text),
            progress=Progress(done=0, total=total),
        )
        return render(request, "collection/label.html", context)
    context.update(
        exit=PreviewExit(code=study.completion_code or "PREVIEW1"),
        progress=Progress(done=total, total=total),
    )
    return render(request, "collection/done.html", context)
