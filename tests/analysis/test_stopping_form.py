"""The stopping rule as a form in the study admin: fields in, the JSON analysis.stopping
reads out, refused with the parser's reason when it is not valid."""

import uuid

import pytest
from django.contrib import admin
from django.test import RequestFactory

from analysis.stopping import stopping_rule_parse
from collection.models import Study
from tests.factories import researcher_make, study_make


def _form(study, **changes):
    owner = researcher_make(f"rule-{uuid.uuid4().hex[:8]}")
    study.owners.add(owner)
    request = RequestFactory().get("/")
    request.user = owner
    form_class = admin.site._registry[Study].get_form(request, study)
    shown = form_class(instance=study)
    data = {}
    for name in shown.fields:
        value = shown[name].value()
        if value is None or value is False:
            continue
        data[name] = value
    data.update({k: v for k, v in changes.items() if v is not None})
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
    return form_class(data=data, instance=study), shown


@pytest.mark.django_db
def test_the_fields_become_the_rule_and_show_it_again(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, stopping_rule={"label_budget": 500})
    form, shown = _form(
        study, stop_cs_excludes_zero=True, stop_cs_width_below="0.05", stop_label_budget=None
    )
    assert shown["stop_label_budget"].value() == 500  # the stored rule, shown
    assert form.is_valid(), form.errors
    form.save()
    study.refresh_from_db()
    assert study.stopping_rule == {"cs_excludes_zero": True, "cs_width_below": 0.05}
    rule = stopping_rule_parse(study=study)
    assert rule.active and rule.cs_width_below == 0.05 and rule.label_budget is None


@pytest.mark.django_db
def test_an_empty_form_means_never_stop_and_a_bad_value_is_refused(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, stopping_rule={"alpha": 0.1})
    form, _ = _form(study, stop_alpha=None)
    assert form.is_valid(), form.errors
    form.save()
    study.refresh_from_db()
    assert study.stopping_rule == {} and not stopping_rule_parse(study=study).active
    bad, _ = _form(study, stop_label_budget="0", stop_alpha="2")
    assert not bad.is_valid()
    assert "stop_label_budget" in bad.errors and "stop_alpha" in bad.errors
    study.refresh_from_db()
    assert study.stopping_rule == {}
