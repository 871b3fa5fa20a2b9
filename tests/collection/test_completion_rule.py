"""The completion rule: an annotator who answers too few attention checks as asked
finishes without a completion code, everywhere a code is shown or sent; one who meets
the rule gets it, and the researcher sees which is which."""

import uuid

import pytest
from django.urls import reverse

from collection.models import Assignment, Enrollment
from collection.selectors import attention_passed, enrollment_exit
from collection.services import assignment_next, label_submit
from tests.collection.helpers import attention_checks_make
from tests.factories import enrollment_make, study_make, user_make


def _finish(study, *, attentive: bool):
    enrollment = enrollment_make(study)
    last = None
    while (a := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
        if a.is_attention_check:
            asked_left = (a.stimulus.attention_answer == "treated") == a.treated_on_left
            choice = "left" if asked_left == attentive else "right"
        else:
            choice = "left"
        last = label_submit(
            enrollment_id=enrollment.pk,
            assignment_id=a.pk,
            submission_id=uuid.uuid4(),
            choice=choice,
            strength=2,
        )
    return Enrollment.objects.get(pk=enrollment.pk), last


@pytest.mark.django_db
def test_only_annotators_who_pass_the_attention_rule_get_a_code(client, stimulus_set):
    attention_checks_make(stimulus_set, 3)
    study = study_make(
        stimulus_set=stimulus_set,
        attention_check_rate=0.5,
        labels_per_annotator=6,
        attention_min_share=0.75,
    )
    careful, careful_last = _finish(study, attentive=True)
    careless, careless_last = _finish(study, attentive=False)
    for enrollment in (careful, careless):
        assert Assignment.objects.filter(enrollment=enrollment, is_attention_check=True).exists()
    assert (
        attention_passed(enrollment_id=careful.pk)[0]
        == attention_passed(enrollment_id=careful.pk)[1]
    )
    assert attention_passed(enrollment_id=careless.pk)[0] == 0
    assert careful_last.completion_code == study.completion_code
    assert careless_last.completed and careless_last.completion_code is None
    assert assignment_next(enrollment_id=careless.pk).completion_code is None
    way_out = enrollment_exit(enrollment=careless)
    assert way_out.outcome == "not-verified" and way_out.code == "" and way_out.url is None
    # The researcher sees who got the code.
    client.force_login(user_make("boss", superuser=True))
    listing = client.get(reverse("admin:collection_enrollment_changelist")).content.decode()
    assert "none: attention checks below the study&#x27;s rule" in listing
    assert study.completion_code in listing
