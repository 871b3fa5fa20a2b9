"""Pretests (stimulus-validation studies): check answers through the label machinery,
per-pair verdicts, and main studies that serve only validated pairs."""

import json
import uuid
import zipfile

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from collection.exports.services import ExportInvalid, export_write
from collection.models import Assignment, CheckAnswer, Label, Study
from collection.pool import study_slots_build
from collection.pretest import (
    Thresholds,
    overall_verdict,
    pretest_results,
    pretest_verdict,
    study_validation_refresh,
)
from collection.services import assignment_next, check_answer_submit
from collection.services.studies import study_launch_problems
from interventions.catalogue import CATALOGUE
from interventions.models import Intervention, Stimulus
from interventions.validation import check_question
from tests.collection.helpers import submit
from tests.collection.test_api import _enrolled_client, _next
from tests.factories import enrollment_make, stimulus_set_make, study_make, user_make

RULE = Thresholds(min_answers=5, min_identified=0.8, min_same_meaning=0.8)


@pytest.mark.parametrize(
    ("n", "identified", "same", "verdict"),
    [
        (0, 0, 0, "pending"),
        (4, 4, 4, "pending"),  # unanimous, but fewer answers than required
        (5, 4, 4, "passed"),  # exactly at both shares
        (5, 3, 5, "failed"),  # the manipulation went unnoticed too often
        (5, 5, 3, "failed"),  # the meaning changed for too many
        (10, 8, 8, "passed"),
        (10, 7, 10, "failed"),
    ],
)
def test_a_pair_passes_with_enough_answers_and_both_shares_at_their_minimum(
    n, identified, same, verdict
):
    assert pretest_verdict(n=n, identified=identified, same_meaning=same, rule=RULE) == verdict


def test_over_several_pretests_a_failure_wins_then_a_pass_then_pending():
    assert overall_verdict([]) == "untested"
    assert overall_verdict(["pending"]) == "pending"
    assert overall_verdict(["pending", "passed"]) == "passed"
    assert overall_verdict(["passed", "failed", "pending"]) == "failed"


def test_every_built_in_intervention_has_a_question_naming_its_direction():
    questions = {
        spec.name: check_question(
            intervention=Intervention(
                name=spec.name, attribute=spec.attribute, parameters=spec.parameters
            ),
            cell=spec.name,
        )
        for spec in CATALOGUE
    }
    assert questions["hedging-more"] == "Which response is more hedged (less certain)?"
    assert questions["hedging-less"] == "Which response is less hedged (more confident)?"
    assert questions["factual-error"] == "Which response contains a factual error?"
    assert len(set(questions.values())) == len(CATALOGUE)  # more and less differ
    own = Intervention(name="x", attribute="tone", check_question=" Which one is warmer? ")
    assert check_question(intervention=own, cell="x") == "Which one is warmer?"
    assert check_question(intervention=Intervention(attribute="tone"), cell="x") == (
        "Which response has more tone?"
    )


def _answer(enrollment, assignment, *, noticed: bool, same: bool, submission_id=None):
    treated = "left" if assignment.treated_on_left else "right"
    other = "right" if treated == "left" else "left"
    return check_answer_submit(
        enrollment_id=enrollment.pk,
        assignment_id=assignment.pk,
        submission_id=submission_id or uuid.uuid4(),
        identified=treated if noticed else other,
        same_meaning=same,
    )


def _pretest(stimulus_set, **fields):
    return study_make(
        stimulus_set=stimulus_set,
        kind="pretest",
        replication_factor=fields.pop("replication_factor", 3),
        labels_per_annotator=fields.pop("labels_per_annotator", 1),
        pretest_min_answers=fields.pop("pretest_min_answers", 2),
        **fields,
    )


def _run_pretest(study, plan: dict) -> None:
    """Annotator i answers every pair of the study's pool: plan[stimulus][i] is
    (noticed, same), and a pair with fewer entries is left unanswered by the rest."""
    for i in range(max(len(answers) for answers in plan.values())):
        enrollment = enrollment_make(study)
        while (assignment := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
            answers = plan[assignment.stimulus]
            if i >= len(answers):
                break
            noticed, same = answers[i]
            _answer(enrollment, assignment, noticed=noticed, same=same)


def _only(stimulus_set, n: int) -> list[Stimulus]:
    """The set's first n passing pairs; the others are marked rejected, out of every pool."""
    chosen = list(stimulus_set.stimuli.filter(check_status="passed").order_by("pk")[:n])
    stimulus_set.stimuli.exclude(pk__in=[s.pk for s in chosen]).update(check_status="rejected")
    return chosen


@pytest.mark.django_db(transaction=True)
def test_answers_aggregate_per_pair_and_the_verdict_follows_the_thresholds():
    stimulus_set = stimulus_set_make(prompts=6)
    good, bad, unmoved = _only(stimulus_set, 3)
    pretest = _pretest(stimulus_set, labels_per_annotator=3, pretest_min_answers=3)
    _run_pretest(
        pretest,
        {good: [(True, True)] * 3, bad: [(True, False), (False, True), (True, True)],
         unmoved: [(False, True), (False, True), (True, True)]},
    )  # fmt: skip
    rows = {r.stimulus_id: r for r in pretest_results(study=pretest)}
    assert [(r.n, r.identified, r.same_meaning, r.verdict) for r in rows.values()] == [
        (3, 3, 3, "passed"), (3, 2, 2, "failed"), (3, 1, 3, "failed"),
    ]  # fmt: skip
    assert rows[good.pk].cell == "length-longer" and rows[bad.pk].same_meaning_share == 2 / 3
    stored = {
        s.pk: (s.validation_status, s.validation_n, s.validation_identified,
               s.validation_same_meaning)
        for s in Stimulus.objects.filter(pk__in=rows)
    }  # fmt: skip
    assert stored == {
        good.pk: ("passed", 3, 3, 3), bad.pk: ("failed", 3, 2, 2), unmoved.pk: ("failed", 3, 1, 3),
    }  # fmt: skip
    # No preference labels, so the analysis has nothing to estimate.
    assert not Label.objects.filter(study=pretest).exists()
    # The thresholds decide: more answers required makes every pair pending; lower shares
    # let the half-noticed pair pass.
    pretest.pretest_min_answers = 4
    pretest.save()
    study_validation_refresh(study=pretest)
    assert set(
        Stimulus.objects.filter(pk__in=rows).values_list("validation_status", flat=True)
    ) == {"pending"}
    pretest.pretest_min_answers, pretest.pretest_min_identified = 3, 0.3
    pretest.pretest_min_same_meaning = 0.6
    pretest.save()
    study_validation_refresh(study=pretest)
    statuses = dict(Stimulus.objects.filter(pk__in=rows).values_list("pk", "validation_status"))
    assert statuses == {good.pk: "passed", bad.pk: "passed", unmoved.pk: "passed"}


@pytest.mark.django_db(transaction=True)
def test_a_main_study_requiring_validation_serves_only_pairs_that_passed():
    stimulus_set = stimulus_set_make(prompts=6)
    good, bad = _only(stimulus_set, 2)
    main = study_make(
        stimulus_set=stimulus_set, replication_factor=1, labels_per_annotator=1,
        require_validated=True, status="draft",
    )  # fmt: skip
    assert any("validated by a pretest" in p for p in study_launch_problems(study=main))
    pretest = _pretest(stimulus_set, labels_per_annotator=2)
    _run_pretest(pretest, {good: [(True, True), (True, True)], bad: [(True, True), (False, False)]})
    assert study_launch_problems(study=main) == []
    main.status = "running"
    main.save()
    served = set()
    for _ in range(3):  # more annotators than validated pairs: the rest get none
        assignment = assignment_next(enrollment_id=enrollment_make(main).pk).assignment
        if assignment is not None:
            served.add(assignment.stimulus_id)
    assert served == {good.pk}
    # A pair that passes later joins the pool when the study's pool is extended.
    Stimulus.objects.filter(pk=bad.pk).update(validation_status="passed")
    assert study_slots_build(study=main) == 1
    later = assignment_next(enrollment_id=enrollment_make(main).pk).assignment
    assert later.stimulus_id == bad.pk


@pytest.mark.django_db(transaction=True)
def test_the_admin_lists_answers_and_filters_pairs_by_pretest_status(client):
    stimulus_set = stimulus_set_make(prompts=3)
    pretest = _pretest(stimulus_set)
    enrollment = enrollment_make(pretest)
    _answer(enrollment, assignment_next(enrollment_id=enrollment.pk).assignment,
            noticed=True, same=True)  # fmt: skip
    answered = CheckAnswer.objects.get().stimulus_id
    client.force_login(user_make("boss", superuser=True))
    listing = client.get(reverse("admin:collection_checkanswer_changelist")).content.decode()
    assert f"stimulus #{answered} " in listing
    pending = client.get(
        reverse("admin:interventions_stimulus_changelist") + "?validation_status__exact=pending"
    ).context["cl"]
    assert [s.pk for s in pending.result_list] == [answered]


@pytest.mark.django_db
def test_a_pretest_refuses_settings_it_cannot_honour(stimulus_set):
    pretest = _pretest(
        stimulus_set, require_validated=True, attention_check_rate=0.1, design_name="neyman"
    )
    problems = " ".join(study_launch_problems(study=pretest))
    assert "cannot require validated pairs" in problems
    assert "no attention checks" in problems and "no outcome to allocate by" in problems
    assert "not factorial" not in problems
    stimulus_set.design = "factorial"
    stimulus_set.save()
    assert "not factorial ones" in " ".join(study_launch_problems(study=pretest))


def _checks(client, study, body):
    return client.post(
        reverse("collection_api:checks", args=[study.slug]),
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
    )


@pytest.mark.django_db
def test_the_api_serves_the_questions_and_refuses_bad_answers(stimulus_set):
    pretest = _pretest(stimulus_set, labels_per_annotator=2)
    client = _enrolled_client(pretest)
    pair = _next(client, pretest).json()["pair"]
    assert pair["questions"] == {
        "identified": "Which response is longer (says the same at more length)?",
        "same_meaning": "Apart from that, do they say the same thing?",
    }
    aid, sid = pair["assignment_id"], str(uuid.uuid4())
    bad_bodies = [
        ({"assignment_id": aid, "submission_id": sid}, {"identified", "same_meaning"}),
        ({"assignment_id": aid, "submission_id": sid, "identified": "maybe",
          "same_meaning": True}, {"identified"}),
        ({"assignment_id": aid, "submission_id": sid, "identified": "left",
          "same_meaning": "perhaps"}, {"same_meaning"}),
        ({"assignment_id": aid, "submission_id": sid, "identified": "left",
          "same_meaning": True, "choice": "left"}, {"non_field_errors"}),
    ]  # fmt: skip
    for body, fields in bad_bodies:
        response = _checks(client, pretest, body)
        assert response.status_code == 400, body
        assert set(response.json()["errors"]) == fields
        assert response.json()["detail"].startswith("fix these fields")
    assert not CheckAnswer.objects.exists()
    # A preference label is refused on a pretest, and changes nothing.
    label = client.post(
        reverse("collection_api:label", args=[pretest.slug]),
        data=json.dumps({"assignment_id": aid, "submission_id": sid, "choice": "left",
                         "strength": 2}),
        content_type="application/json",
    )  # fmt: skip
    assert label.status_code == 409 and "checks endpoint" in label.json()["detail"]
    good = {"assignment_id": aid, "submission_id": sid, "identified": "none",
            "same_meaning": False}  # fmt: skip
    first, replay = _checks(client, pretest, good), _checks(client, pretest, good)
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json()["label_id"] == first.json()["label_id"] and replay.json()["replayed"]
    stored = CheckAnswer.objects.get()
    assert (stored.identified, stored.identified_treated, stored.same_meaning) == (
        "none", False, False,
    )  # fmt: skip
    assert not Label.objects.exists()
    again = dict(good, submission_id=str(uuid.uuid4()))
    assert _checks(client, pretest, again).status_code == 409  # already answered
    assert CheckAnswer.objects.count() == 1


@pytest.mark.django_db
def test_the_checks_endpoint_refuses_a_preference_study(study):
    client = _enrolled_client(study)
    pair = _next(client, study).json()["pair"]
    assert "questions" not in pair
    body = {"assignment_id": pair["assignment_id"], "submission_id": str(uuid.uuid4()),
            "identified": "left", "same_meaning": True}  # fmt: skip
    response = _checks(client, study, body)
    assert response.status_code == 409 and "send a label" in response.json()["detail"]
    assert not CheckAnswer.objects.exists()


@pytest.mark.django_db
def test_the_pretest_page_asks_the_questions_and_stores_the_answers(stimulus_set, client):
    pretest = _pretest(stimulus_set, labels_per_annotator=1)
    entry = reverse("collection:entry", args=[pretest.slug])
    consent = client.post(entry).url
    client.post(consent, {"agree": "on"})
    page = client.get(reverse("collection:label", args=[pretest.slug]))
    text = page.content.decode()
    assert "Which response is longer" in text and "Apart from that" in text
    assert "Which response is better" not in text
    assignment = Assignment.objects.get(study=pretest)
    incomplete = client.post(
        page.request["PATH_INFO"],
        {"assignment_id": assignment.pk, "submission_id": uuid.uuid4(), "identified": "left"},
        follow=True,
    )
    assert "Answer both questions" in incomplete.content.decode()
    done = client.post(
        page.request["PATH_INFO"],
        {"assignment_id": assignment.pk, "submission_id": uuid.uuid4(), "identified": "right",
         "same_meaning": "yes"},
    )  # fmt: skip
    assert done.url == reverse("collection:done", args=[pretest.slug])
    answer = CheckAnswer.objects.get()
    assert answer.same_meaning is True
    assert answer.identified_treated == (not assignment.treated_on_left)


@pytest.mark.django_db(transaction=True)
def test_the_export_carries_each_pairs_pretest_result(tmp_path):
    stimulus_set = stimulus_set_make(prompts=6)
    (good,) = _only(stimulus_set, 1)
    pretest = _pretest(stimulus_set)
    _run_pretest(pretest, {good: [(True, True), (False, True)]})
    main = study_make(stimulus_set=stimulus_set, replication_factor=1, labels_per_annotator=1)
    enrollment = enrollment_make(main)
    submit(enrollment, assignment_next(enrollment_id=enrollment.pk).assignment)
    (row,) = _exported(main, "labels", tmp_path)
    assert (row["stimulus_id"], row["pretest_status"], row["pretest_answers"]) == (
        good.pk, "failed", 2,
    )  # fmt: skip
    assert (row["pretest_identified_share"], row["pretest_same_meaning_share"]) == (0.5, 1.0)


@pytest.mark.django_db(transaction=True)
def test_a_pretests_export_is_its_answers_with_a_codebook(tmp_path):
    stimulus_set = stimulus_set_make(prompts=6)
    good, bad = _only(stimulus_set, 2)
    pretest = _pretest(stimulus_set, labels_per_annotator=2)
    _run_pretest(pretest, {good: [(True, True), (True, True)], bad: [(False, True), (True, True)]})
    out = tmp_path / "answers.zip"
    call_command("export_dataset", pretest.slug, "--out", str(out), "--format", "pretest_answers")
    with zipfile.ZipFile(out) as bundle:
        rows = [
            json.loads(line)
            for line in bundle.read(f"{pretest.slug}-pretest_answers.jsonl").splitlines()
        ]
        described = json.loads(bundle.read("codebook.json"))
    assert len(rows) == CheckAnswer.objects.count() == 4
    for row in rows:
        answer = CheckAnswer.objects.get(pk=row["answer_id"])
        assert (row["stimulus_id"], row["identified"], row["same_meaning"]) == (
            answer.stimulus_id, answer.identified, answer.same_meaning,
        )  # fmt: skip
        treated_side = "left" if row["treated_on_left"] else "right"
        assert row["identified_treated"] == (row["identified"] == treated_side)
        assert row["verdict"] == ("passed" if row["stimulus_id"] == good.pk else "failed")
    assert list(described) == list(rows[0]) and all(c["meaning"] for c in described.values())
    with pytest.raises(ExportInvalid, match="does not fit"):
        export_write(study=pretest, format="trl", file_format="jsonl", options={}, out=out)


def _exported(study, fmt: str, folder) -> list[dict]:
    out = folder / f"{fmt}.zip"
    export_write(study=study, format=fmt, file_format="jsonl", options={}, out=out)
    with zipfile.ZipFile(out) as bundle:
        return [json.loads(line) for line in bundle.read(f"{study.slug}-{fmt}.jsonl").splitlines()]


@pytest.mark.django_db(transaction=True)
def test_changing_a_pretests_thresholds_in_the_admin_moves_the_verdicts(rf):
    stimulus_set = stimulus_set_make(prompts=3)
    (pair,) = _only(stimulus_set, 1)
    pretest = _pretest(stimulus_set)
    _run_pretest(pretest, {pair: [(True, True), (False, True)]})
    assert Stimulus.objects.get(pk=pair.pk).validation_status == "failed"
    study_admin = admin.site._registry[Study]
    request = rf.post("/")
    request.user = user_make("boss", superuser=True)
    pretest.pretest_min_identified = 0.5
    form = study_admin.get_form(request, pretest)(instance=pretest)
    form.changed_data = ["pretest_min_identified"]  # what the admin form reports
    study_admin.save_model(request, pretest, form, change=True)
    assert Stimulus.objects.get(pk=pair.pk).validation_status == "passed"
