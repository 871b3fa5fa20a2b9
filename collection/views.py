"""Annotator pages: entry, consent (or decline), questionnaire, label, done, and the ways
out (stop and return; the page of a participant who left). Thin: each calls services."""

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from annotators.models import CovariateResponse
from annotators.services import covariates_record
from collection.enrollment_cookie import enrollment_cookie_set
from collection.errors import (
    EnrollmentClosed,
    EnrollmentNotReady,
    EnrollmentRefused,
    LabelRejected,
)
from collection.forms import (
    CheckForm,
    ConsentForm,
    LabelForm,
    PracticeForm,
    covariate_form_class,
)
from collection.models import Enrollment, PracticeAnswer, PracticePair, Study
from collection.rendering import markdown_render
from collection.selectors import Progress, enrollment_exit, enrollment_progress, pair_texts
from collection.services import (
    LabelResult,
    assignment_next,
    check_answer_submit,
    enrollment_consent,
    enrollment_decline,
    enrollment_return,
    label_submit,
)
from collection.services.enrollments import (
    ProlificArrival,
    enrollment_enter,
    prolific_arrival,
)
from collection.services.invitations import (
    INVITATION_USED,
    INVITE_PARAMETER,
    invitation_enter,
    invitation_for_token,
)
from collection.services.practice import practice_answer, practice_next
from collection.throttles import throttle_new_sessions
from interventions.validation import DEFAULT_SAME_QUESTION, check_question_for_stimulus


def _session_key(study: Study) -> str:
    return f"enrollment:{study.slug}"


def _session_enrollment(request: HttpRequest, study: Study) -> Enrollment | None:
    pk = request.session.get(_session_key(study))
    if pk is None:
        return None
    return Enrollment.objects.select_related("study", "annotator").filter(pk=pk).first()


def _next_url(enrollment: Enrollment) -> str:
    study = enrollment.study
    if enrollment.ended:
        step = "ended"
    elif enrollment.consented_at is None:
        step = "consent"
    elif (
        study.covariate_schema_id
        and not CovariateResponse.objects.filter(
            annotator_id=enrollment.annotator_id, schema_id=study.covariate_schema_id
        ).exists()
    ):
        step = "about_you"
    elif enrollment.completed_at is not None:
        step = "done"
    elif (
        enrollment.practice_done_at is None
        and PracticePair.objects.filter(study_id=study.pk).exists()
    ):
        step = "practice"
    else:
        step = "label"
    return reverse(f"collection:{step}", args=[study.slug])


def _arrival_key(study: Study) -> str:
    return f"arrival:{study.slug}"


def _not_open(request: HttpRequest) -> HttpResponse:
    # The same answer for an unknown slug and a study that is not running, without its
    # title, so links cannot be enumerated.
    return render(request, "collection/closed.html", {}, status=404)


def _refused(request: HttpRequest, study: Study, reason: Exception) -> HttpResponse:
    context = {"study": study, "reason": str(reason)}
    return render(request, "collection/refused.html", context, status=403)


@require_http_methods(["GET", "POST"])
@throttle_new_sessions
def entry(request: HttpRequest, slug: str) -> HttpResponse:
    study = Study.objects.filter(slug=slug).first()
    if study is None or (
        study.status != Study.Status.RUNNING and _session_enrollment(request, study) is None
    ):
        return _not_open(request)
    token = request.GET.get(INVITE_PARAMETER, "").strip()
    if request.method == "GET" and token:
        return _invitation_arrival(request, study, token)
    invited = request.session.get(_invitation_key(study))
    pid = request.GET.get("PROLIFIC_PID", "").strip()
    if study.invitation_only and invited is None and _session_enrollment(request, study) is None:
        return _refused(
            request,
            study,
            EnrollmentRefused(
                "this study admits invited participants only: open the invitation link "
                "you were sent"
            ),
        )
    if request.method == "GET" and pid:
        # Hash the id now and go on at the clean URL: from here no URL, Referer or log
        # line carries it.
        try:
            arrival = prolific_arrival(
                study=study,
                pid=pid,
                study_id=request.GET.get("STUDY_ID", ""),
                session_id=request.GET.get("SESSION_ID", ""),
            )
        except EnrollmentRefused as exc:
            return _refused(request, study, exc)
        request.session[_arrival_key(study)] = asdict(arrival)
        return redirect("collection:entry", slug)
    stored = request.session.get(_arrival_key(study))
    enrollment = _session_enrollment(request, study)
    if enrollment is not None and stored is None and invited is None:
        return _onward(enrollment)
    if study.status != Study.Status.RUNNING:
        return _not_open(request)
    if request.method == "GET":
        return render(request, "collection/entry.html", {"study": study})
    try:
        if invited is not None:
            enrollment = invitation_enter(study=study, invitation_id=invited)
        else:
            enrollment = enrollment_enter(
                study=study, arrival=ProlificArrival(**stored) if stored else None
            )
    except EnrollmentClosed:
        return _not_open(request)
    except EnrollmentRefused as exc:
        return _refused(request, study, exc)
    request.session.pop(_arrival_key(study), None)
    request.session.pop(_invitation_key(study), None)
    request.session.cycle_key()
    request.session[_session_key(study)] = enrollment.pk
    return _onward(enrollment)


def _invitation_key(study: Study) -> str:
    return f"invitation:{study.slug}"


def _invitation_arrival(request: HttpRequest, study: Study, token: str) -> HttpResponse:
    """Check the link's token, keep only the invitation's id in the session and go on at
    the clean URL (no later URL, Referer or log line carries the token)."""
    try:
        invitation = invitation_for_token(study=study, token=token)
    except EnrollmentRefused as exc:
        return _refused(request, study, exc)
    enrollment = _session_enrollment(request, study)
    if invitation.enrollment_id is not None:
        if enrollment is not None and enrollment.pk == invitation.enrollment_id:
            return _onward(enrollment)  # the invited person, back in their own browser
        return _refused(request, study, EnrollmentRefused(INVITATION_USED))
    request.session[_invitation_key(study)] = invitation.pk
    request.session.pop(_arrival_key(study), None)
    return redirect("collection:entry", study.slug)


def _onward(enrollment: Enrollment) -> HttpResponse:
    """To the annotator's next step, carrying the API's enrollment cookie."""
    response = redirect(_next_url(enrollment))
    enrollment_cookie_set(response, slug=enrollment.study.slug, enrollment_id=enrollment.pk)
    return response


def _enrollment_or_entry(request: HttpRequest, slug: str) -> Enrollment | HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    enrollment = _session_enrollment(request, study)
    if enrollment is None:
        return redirect("collection:entry", slug)
    return enrollment


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    enrollment = _enrollment_or_entry(request, slug)
    if isinstance(enrollment, HttpResponse):
        return enrollment
    if enrollment.consented_at is not None or enrollment.ended:
        return redirect(_next_url(enrollment))
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        enrollment_consent(enrollment=enrollment, consent_text=enrollment.study.consent_text)
        return redirect(_next_url(enrollment))
    return render(request, "collection/consent.html", {"study": enrollment.study, "form": form})


def _leaving_key(study: Study) -> str:
    return f"leaving:{study.slug}"


def _leave(request: HttpRequest, enrollment: Enrollment) -> HttpResponse:
    """To the page that sends a participant who just left on to the recruitment site.

    Through our own page rather than a redirect from the POST: the CSP's form-action
    'self' would stop a form's redirect to another site. The flag makes that page
    redirect once; coming back later, the participant sees it without being sent away.
    """
    request.session[_leaving_key(enrollment.study)] = True
    return redirect("collection:ended", enrollment.study.slug)


@require_POST
def decline(request: HttpRequest, slug: str) -> HttpResponse:
    enrollment = _enrollment_or_entry(request, slug)
    if isinstance(enrollment, HttpResponse):
        return enrollment
    if enrollment_decline(enrollment=enrollment):
        return _leave(request, enrollment)
    return redirect(_next_url(enrollment))  # consented meanwhile: stopping is the way out


@require_http_methods(["GET", "POST"])
def stop(request: HttpRequest, slug: str) -> HttpResponse:
    """Stop part-way and return the study: a confirmation, then the return."""
    enrollment = _enrollment_or_entry(request, slug)
    if isinstance(enrollment, HttpResponse):
        return enrollment
    if enrollment.consented_at is None or enrollment.completed_at or enrollment.ended:
        return redirect(_next_url(enrollment))
    if request.method == "POST":
        if enrollment_return(enrollment=enrollment):
            return _leave(request, enrollment)
        enrollment.refresh_from_db()
        return redirect(_next_url(enrollment))  # the last label was committed meanwhile
    context = {"study": enrollment.study, "progress": enrollment_progress(enrollment=enrollment)}
    return render(request, "collection/stop.html", context)


def ended(request: HttpRequest, slug: str) -> HttpResponse:
    """The page of a participant who declined or returned the study, whenever they come
    back: it sends them to the recruitment site only right after they left."""
    enrollment = _enrollment_or_entry(request, slug)
    if isinstance(enrollment, HttpResponse):
        return enrollment
    if not enrollment.ended:
        return redirect(_next_url(enrollment))
    leaving = request.session.pop(_leaving_key(enrollment.study), False)
    way_out = enrollment_exit(enrollment=enrollment)
    context = {
        "study": enrollment.study,
        "exit": way_out,
        "redirect_now": bool(leaving and way_out and way_out.url),
    }
    return render(request, "collection/ended.html", context)


@require_http_methods(["GET", "POST"])
def about_you(request: HttpRequest, slug: str) -> HttpResponse:
    enrollment = _enrollment_or_entry(request, slug)
    if isinstance(enrollment, HttpResponse):
        return enrollment
    schema = enrollment.study.covariate_schema
    if schema is None or enrollment.consented_at is None or enrollment.ended:
        return redirect(_next_url(enrollment))
    form = covariate_form_class(schema.questions)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            covariates_record(
                annotator=enrollment.annotator, schema=schema, answers=form.cleaned_data
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            return redirect(_next_url(enrollment))
    return render(request, "collection/about_you.html", {"study": enrollment.study, "form": form})


@require_http_methods(["GET", "POST"])
def practice(request: HttpRequest, slug: str) -> HttpResponse:
    """The researcher's practice pairs, one at a time, each answer followed by feedback."""
    enrollment = _enrollment_or_entry(request, slug)
    if isinstance(enrollment, HttpResponse):
        return enrollment
    answered = request.GET.get("answered", "")
    if answered.isdigit():
        answer = (
            PracticeAnswer.objects.select_related("practice")
            .filter(enrollment=enrollment, practice_id=int(answered))
            .first()
        )
        if answer is not None:
            return _practice_feedback(request, enrollment, answer)
    expected = _next_url(enrollment)
    if expected != request.path:
        return redirect(expected)
    step = practice_next(enrollment=enrollment)
    if step is None:  # answered meanwhile, in another tab
        return redirect(_next_url(enrollment))
    form = PracticeForm(request.POST or None, initial={"practice_id": step.pair.pk})
    if request.method == "POST":
        if form.is_valid() and form.cleaned_data["practice_id"] == step.pair.pk:
            practice_answer(
                enrollment=enrollment,
                practice_id=step.pair.pk,
                choice=form.cleaned_data["choice"],
            )
            return redirect(f"{request.path}?answered={step.pair.pk}")
        messages.error(request, "Choose which response is better before submitting.")
        return redirect("collection:practice", slug)
    context = {
        "study": enrollment.study,
        "form": form,
        "step": step,
        "prompt_html": markdown_render(step.pair.prompt),
        "left_html": markdown_render(step.pair.left),
        "right_html": markdown_render(step.pair.right),
        "progress": Progress(done=step.number - 1, total=step.total),
    }
    return render(request, "collection/practice.html", context)


def _practice_feedback(
    request: HttpRequest, enrollment: Enrollment, answer: PracticeAnswer
) -> HttpResponse:
    pairs = list(
        PracticePair.objects.filter(study_id=enrollment.study_id).values_list("pk", flat=True)
    )
    context = {
        "study": enrollment.study,
        "answer": answer,
        "number": pairs.index(answer.practice_id) + 1,
        "total": len(pairs),
        "last": answer.practice_id == pairs[-1],
    }
    return render(request, "collection/practice_feedback.html", context)


@dataclass(frozen=True)
class _PairPage:
    """How one kind of study asks about a pair: its form, service, page and prompt."""

    form: type[forms.Form]
    template: str
    incomplete: str  # the message for a form sent without its answers
    submit: Callable[[int, dict], LabelResult]
    blank: Callable[[Study, dict], forms.Form]  # the form a pair is shown with


def _label_blank(study: Study, initial: dict) -> forms.Form:
    return LabelForm(initial=initial, study=study)  # it asks strength as the study grades it


def _check_blank(study: Study, initial: dict) -> forms.Form:
    return CheckForm(initial=initial)


def _label_submit(enrollment_id: int, data: dict) -> LabelResult:
    return label_submit(enrollment_id=enrollment_id, **data)


def _check_submit(enrollment_id: int, data: dict) -> LabelResult:
    return check_answer_submit(enrollment_id=enrollment_id, **data)


PAIR_PAGES = {
    Study.Kind.PREFERENCE: _PairPage(
        LabelForm, "collection/label.html",
        "Choose which response is better before submitting.", _label_submit, _label_blank,
    ),
    Study.Kind.PRETEST: _PairPage(
        CheckForm, "collection/pretest.html",
        "Answer both questions before submitting.", _check_submit, _check_blank,
    ),
}  # fmt: skip


@require_http_methods(["GET", "POST"])
def label(request: HttpRequest, slug: str) -> HttpResponse:
    """The pair page: which response is better, or, in a pretest, the check questions."""
    enrollment = _enrollment_or_entry(request, slug)
    if isinstance(enrollment, HttpResponse):
        return enrollment
    expected = _next_url(enrollment)
    if expected != request.path:
        return redirect(expected)
    kind = PAIR_PAGES[Study.Kind(enrollment.study.kind)]
    if request.method == "POST":
        form = kind.form(request.POST)
        if not form.is_valid():
            # A preference sent without its strength says so rather than "choose".
            strength_only = set(form.errors) == {"strength"}
            messages.error(
                request,
                "Say how much better the chosen response is before submitting."
                if strength_only
                else kind.incomplete,
            )
            return redirect("collection:label", slug)
        try:
            stored = kind.submit(enrollment.pk, form.cleaned_data)
        except LabelRejected as exc:
            messages.error(request, str(exc).capitalize() + ".")
            return redirect("collection:label", slug)
        return redirect("collection:done" if stored.completed else "collection:label", slug)
    try:
        result = assignment_next(enrollment_id=enrollment.pk)
    except EnrollmentNotReady:
        return redirect("collection:entry", slug)
    assignment = result.assignment
    if assignment is None:
        return redirect("collection:done", slug)
    texts = pair_texts(assignment=assignment)
    initial = {"assignment_id": assignment.pk, "submission_id": uuid.uuid4()}
    context = {
        "study": enrollment.study,
        "form": kind.blank(enrollment.study, initial),
        "prompt_html": markdown_render(texts.prompt),
        "left_html": markdown_render(texts.left),
        "right_html": markdown_render(texts.right),
        "progress": Progress(done=result.labels_done, total=result.labels_total),
    }
    if enrollment.study.kind == Study.Kind.PRETEST:
        context["question"] = check_question_for_stimulus(stimulus_id=assignment.stimulus_id)
        context["same_question"] = DEFAULT_SAME_QUESTION
    response = render(request, kind.template, context)
    enrollment_cookie_set(response, slug=slug, enrollment_id=enrollment.pk)
    return response


def done(request: HttpRequest, slug: str) -> HttpResponse:
    enrollment = _enrollment_or_entry(request, slug)
    if isinstance(enrollment, HttpResponse):
        return enrollment
    if enrollment.ended:
        return redirect(_next_url(enrollment))
    way_out = enrollment_exit(enrollment=enrollment)
    context = {
        "study": enrollment.study,
        "exit": way_out,
        # Every visit of a finished participant redirects: the JSON API's client lands
        # here after the last label too, and the code is on the page if the site is down.
        "redirect_now": bool(way_out and way_out.url),
        "not_verified": bool(way_out and way_out.outcome == "not-verified"),
        "progress": enrollment_progress(enrollment=enrollment),
    }
    return render(request, "collection/done.html", context)
