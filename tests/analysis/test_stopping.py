import numpy as np
import pytest
from django.core import mail

from analysis.models import RefreshState
from analysis.services import study_refresh
from analysis.stopping import stopping_rule_parse
from collection.models import Label, Study
from tests.analysis.helpers import label_study
from tests.factories import stimulus_set_make, study_make, user_make


def _study(rule: dict, **fields) -> Study:
    owner = user_make(f"owner-{len(rule)}-{len(fields)}")
    owner.email = "owner@example.org"
    owner.save()
    return study_make(
        stimulus_set=stimulus_set_make(prompts=15),
        labels_per_annotator=fields.pop("labels_per_annotator", 10),
        replication_factor=4,
        stopping_rule=rule,
        owner=owner,
        min_annotators=fields.pop("min_annotators", 2),
        **fields,
    )


def _refresh_each(study):
    return lambda: study_refresh(study_id=study.pk)


@pytest.mark.django_db
def test_a_confidence_sequence_excluding_zero_pauses_the_study_and_emails_the_owner():
    study = _study({"cs_excludes_zero": True, "planned_annotators": 20}, labels_per_annotator=3)
    # Nearly everyone prefers the treated answer: with 20 annotators (the first look the
    # sequence is shown at) it leaves zero.
    label_study(study, annotators=20, rng=np.random.default_rng(0), p_treated=0.9)
    study_refresh(study_id=study.pk)
    study.refresh_from_db()
    assert study.status == Study.Status.PAUSED
    (message,) = mail.outbox
    assert message.to == ["owner@example.org"] and study.title in message.subject
    assert "excludes zero for every intervention" in message.body
    assert "excludes zero" in RefreshState.objects.get(study=study).stopped_reason


@pytest.mark.django_db
def test_no_stop_while_the_sequence_still_covers_zero():
    study = _study({"cs_excludes_zero": True})
    label_study(study, annotators=4, rng=np.random.default_rng(1), p_treated=0.5)
    study_refresh(study_id=study.pk)
    study.refresh_from_db()
    assert study.status == Study.Status.RUNNING and not mail.outbox


@pytest.mark.django_db
def test_label_budget_pauses_once_and_mails_once():
    study = _study({"label_budget": 15})
    label_study(study, annotators=2, rng=np.random.default_rng(2), refresh=_refresh_each(study))
    study.refresh_from_db()
    assert study.status == Study.Status.PAUSED
    assert len(mail.outbox) == 1 and "label budget reached (15 of 15)" in mail.outbox[0].body
    # The pause took effect at once: no pair was served after the budget was reached.
    assert Label.objects.filter(study=study).count() == 15
    assert study_refresh(study_id=study.pk) is None and len(mail.outbox) == 1


@pytest.mark.django_db
def test_width_target_stops_only_when_every_sequence_is_narrow_enough():
    wide = _study({"cs_width_below": 0.05})
    label_study(wide, annotators=3, rng=np.random.default_rng(4))
    study_refresh(study_id=wide.pk)
    wide.refresh_from_db()
    assert wide.status == Study.Status.RUNNING
    narrow = _study({"cs_width_below": 5.0}, slug="narrow", labels_per_annotator=3)
    label_study(narrow, annotators=20, rng=np.random.default_rng(4))
    study_refresh(study_id=narrow.pk)
    narrow.refresh_from_db()
    assert narrow.status == Study.Status.PAUSED
    assert "narrower than 5.0" in mail.outbox[0].body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rule, message",
    [
        ({"cs_exclude_zero": True}, "unknown key(s) ['cs_exclude_zero']"),
        ({"alpha": 1.5}, "alpha must be in (0, 1)"),
        ({"label_budget": 0}, "label_budget must be a whole number >= 1"),
        ({"cs_width_below": -1}, "cs_width_below must be positive"),
    ],
)
def test_a_bad_rule_is_refused_with_the_key_to_fix(rule, message):
    study = study_make(stopping_rule=rule)
    with pytest.raises(ValueError) as error:
        stopping_rule_parse(study=study)
    assert message in str(error.value)
