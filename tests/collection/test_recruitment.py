"""The recruitment loop's services: decline, stop and return, and the codes of each way out."""

import threading
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from annotators.models import ConsentRecord
from annotators.services import annotator_create_anonymous
from collection.errors import EnrollmentNotReady, LabelRejected
from collection.models import Assignment, Enrollment, Study
from collection.recruitment import (
    PROLIFIC_COMPLETION_URL,
    completion_url_template_validate,
    enrollment_code,
    exit_url,
)
from collection.selectors import enrollment_exit
from collection.services import (
    assignment_next,
    enrollment_consent,
    enrollment_decline,
    enrollment_return,
    enrollment_start,
)
from interventions.models import Stimulus
from tests.collection.helpers import pool_problems, submit
from tests.factories import enrollment_make, study_make
from tests.services import require_postgres_and_redis


def _fresh(study: Study) -> Enrollment:
    return enrollment_start(study=study, annotator=annotator_create_anonymous())


# --- Codes and URLs ---------------------------------------------------------------------


def test_exit_url_puts_the_code_in_its_slot_encoded():
    assert exit_url(template=PROLIFIC_COMPLETION_URL, code="C0DE") == (
        "https://app.prolific.com/submissions/complete?cc=C0DE"
    )
    assert exit_url(template="https://x.org/done/{code}?a={b}", code="a&b c") == (
        "https://x.org/done/a%26b%20c?a={b}"
    )
    assert exit_url(template="", code="C0DE") is None
    assert exit_url(template=PROLIFIC_COMPLETION_URL, code="") is None


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("https://app.prolific.com/submissions/complete", "put {code} exactly once"),
        ("https://x.org/{code}/{code}", "put {code} exactly once"),
        ("javascript:alert(1)//{code}", "must start with https://"),
        ("app.prolific.com/?cc={code}", "must start with https://"),
    ],
)
def test_a_bad_completion_url_says_what_to_fix(template, says):
    with pytest.raises(ValidationError) as caught:
        completion_url_template_validate(template)
    assert says in caught.value.messages[0]


def test_blank_and_well_formed_completion_urls_pass():
    for template in ("", PROLIFIC_COMPLETION_URL, "http://127.0.0.1:8000/thanks?code={code}"):
        completion_url_template_validate(template)  # raises nothing


@pytest.mark.django_db
def test_the_study_form_refuses_bad_codes_and_urls(study):
    study.completion_code = "has space"
    study.completion_url_template = "https://app.prolific.com/"
    with pytest.raises(ValidationError) as caught:
        study.full_clean()
    assert set(caught.value.message_dict) == {"completion_code", "completion_url_template"}
    assert "letters, digits" in caught.value.message_dict["completion_code"][0]


def test_enrollment_codes_are_stable_distinct_and_short():
    first = enrollment_code(study_id=1, enrollment_id=1)
    assert first == enrollment_code(study_id=1, enrollment_id=1)
    others = {enrollment_code(study_id=s, enrollment_id=e) for s in (1, 2) for e in range(1, 50)}
    assert len(others) == 98 and len(first) == 10 and first.isalnum()


# --- Decline ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_decline_records_the_decline_and_nothing_else(study):
    enrollment = _fresh(study)
    assert enrollment_decline(enrollment=enrollment) is True
    enrollment.refresh_from_db()
    assert enrollment.declined_at is not None and enrollment.consented_at is None
    assert enrollment_decline(enrollment=enrollment) is True  # idempotent
    # A second tab's consent cannot undo it, and records no consent text.
    assert enrollment_consent(enrollment=enrollment, consent_text="text") is False
    assert enrollment.consented_at is None and not ConsentRecord.objects.exists()
    with pytest.raises(EnrollmentNotReady, match="declined or returned"):
        assignment_next(enrollment_id=enrollment.pk)
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_no_decline_after_consent(study):
    enrollment = enrollment_make(study)
    assert enrollment_decline(enrollment=enrollment) is False
    assert enrollment.declined_at is None and enrollment.consented_at is not None


@pytest.mark.django_db
def test_the_database_refuses_a_consented_decline(study):
    enrollment = enrollment_make(study)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.filter(pk=enrollment.pk).update(declined_at=timezone.now())


# --- Stop and return --------------------------------------------------------------------


@pytest.mark.django_db
def test_return_frees_the_open_pair_for_another_annotator(stimulus_set):
    # One stimulus at k=1: only a released pair can be served to the second annotator.
    passed = stimulus_set.stimuli.filter(check_status=Stimulus.CheckStatus.PASSED)
    passed.exclude(pk=passed.order_by("pk").first().pk).delete()
    study = study_make(stimulus_set=stimulus_set, replication_factor=1, attention_check_rate=0)
    first, second = enrollment_make(study), enrollment_make(study)
    held = assignment_next(enrollment_id=first.pk).assignment
    assert assignment_next(enrollment_id=second.pk).status == "no_work"

    assert enrollment_return(enrollment=first) is True
    held.refresh_from_db()
    assert held.state == Assignment.State.RETURNED and held.returned_at is not None
    assert pool_problems(study) == []
    served = assignment_next(enrollment_id=second.pk).assignment
    assert served is not None and served.stimulus_id == held.stimulus_id
    with pytest.raises(EnrollmentNotReady, match="declined or returned"):
        assignment_next(enrollment_id=first.pk)
    with pytest.raises(LabelRejected):
        submit(first, held)


@pytest.mark.django_db
def test_return_keeps_the_labels_given_and_is_idempotent(study):
    enrollment = enrollment_make(study)
    submit(enrollment, assignment_next(enrollment_id=enrollment.pk).assignment)
    assignment_next(enrollment_id=enrollment.pk)  # a second pair, open
    assert enrollment_return(enrollment=enrollment) is True
    assert enrollment_return(enrollment=enrollment) is True
    states = sorted(Assignment.objects.values_list("state", flat=True))
    assert states == ["labelled", "returned"] and study.labels.count() == 1


@pytest.mark.django_db
def test_nothing_to_return_before_consent_after_completion_or_decline(study):
    unconsented, declined = _fresh(study), _fresh(study)
    enrollment_decline(enrollment=declined)
    finished = enrollment_make(study)
    while (pair := assignment_next(enrollment_id=finished.pk).assignment) is not None:
        submit(finished, pair)
    for enrollment in (unconsented, declined, finished):
        assert enrollment_return(enrollment=enrollment) is False
        enrollment.refresh_from_db()
        assert enrollment.returned_at is None


# --- The way out ------------------------------------------------------------------------


def _finish(enrollment: Enrollment) -> str | None:
    code = None
    while (pair := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
        code = submit(enrollment, pair).completion_code
    return code


@pytest.mark.django_db
def test_without_a_study_code_each_enrollment_gets_its_own_and_no_redirect(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=2)
    Study.objects.filter(pk=study.pk).update(completion_code="")
    one, two = enrollment_make(study), enrollment_make(study)
    codes = [_finish(one), _finish(two)]
    assert codes == [
        enrollment_code(study_id=study.pk, enrollment_id=one.pk),
        enrollment_code(study_id=study.pk, enrollment_id=two.pk),
    ]
    assert codes[0] != codes[1]
    assert assignment_next(enrollment_id=one.pk).completion_code == codes[0]
    one.refresh_from_db()
    Enrollment.objects.filter(pk=one.pk).update(prolific_session_id="ses")
    one.refresh_from_db()
    way_out = enrollment_exit(enrollment=one)
    assert (way_out.outcome, way_out.code, way_out.url) == ("completed", codes[0], None)


@pytest.mark.django_db
def test_each_way_out_carries_its_own_code_for_prolific_participants_only(study):
    Study.objects.filter(pk=study.pk).update(no_consent_code="NC1", returned_code="")
    study.refresh_from_db()
    declined = _fresh(study)
    enrollment_decline(enrollment=declined)
    returned = enrollment_make(study)
    enrollment_return(enrollment=returned)
    finished = enrollment_make(study)
    _finish(finished)
    running = enrollment_make(study)
    assert enrollment_exit(enrollment=declined).url is None  # came by the open link
    Enrollment.objects.update(prolific_session_id="ses")
    outs = {}
    for enrollment in (declined, returned, finished, running):
        enrollment.refresh_from_db()
        outs[enrollment.pk] = enrollment_exit(enrollment=enrollment)
    assert outs[running.pk] is None
    assert (outs[declined.pk].outcome, outs[declined.pk].url) == (
        "declined",
        "https://app.prolific.com/submissions/complete?cc=NC1",
    )
    assert (outs[returned.pk].outcome, outs[returned.pk].code, outs[returned.pk].url) == (
        "returned",
        "",
        None,  # a blank code: a thank-you page, no redirect
    )
    assert outs[finished.pk].url == "https://app.prolific.com/submissions/complete?cc=DONE123"


# --- Races (PostgreSQL: real row locks) ---------------------------------------------------


def _race(*calls) -> list:
    """Run the calls at once, each in its own thread and connection; their results or
    exceptions, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_consent_and_decline_at_once_leave_exactly_one(stimulus_set):
    require_postgres_and_redis()
    study = study_make(stimulus_set=stimulus_set)
    for _ in range(20):
        enrollment = _fresh(study)
        consented, declined = _race(
            lambda e=enrollment: enrollment_consent(
                enrollment=Enrollment.objects.select_related("study", "annotator").get(pk=e.pk),
                consent_text="text",
            ),
            lambda e=enrollment: enrollment_decline(enrollment=Enrollment.objects.get(pk=e.pk)),
        )
        assert {consented, declined} == {True, False}, (consented, declined)
        enrollment.refresh_from_db()
        assert (enrollment.consented_at is None) == declined
        records = ConsentRecord.objects.filter(annotator_id=enrollment.annotator_id).count()
        assert records == (0 if declined else 1)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_stop_and_the_last_label_at_once_never_both(stimulus_set):
    require_postgres_and_redis()
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=1)
    outcomes = Counter()
    for _ in range(20):
        enrollment = enrollment_make(study)
        pair = assignment_next(enrollment_id=enrollment.pk).assignment
        labelled, returned = _race(
            lambda e=enrollment, p=pair: submit(e, p),
            lambda e=enrollment: enrollment_return(enrollment=Enrollment.objects.get(pk=e.pk)),
        )
        enrollment.refresh_from_db()
        pair.refresh_from_db()
        if returned is True:  # the return went first: the label was refused
            assert isinstance(labelled, LabelRejected), labelled
            assert enrollment.completed_at is None and pair.state == Assignment.State.RETURNED
        else:  # the label went first: nothing left to return
            assert returned is False and labelled.completed, (labelled, returned)
            assert enrollment.returned_at is None and pair.state == Assignment.State.LABELLED
        outcomes[returned] += 1
    assert pool_problems(study) == []
    print("return first / label first:", outcomes[True], outcomes[False])
