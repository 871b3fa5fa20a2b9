"""The questionnaire editor in the admin: rows of fields become the questions the
annotator pages ask; mistakes are refused with the question and what to fix."""

import pytest
from django.urls import reverse

from annotators.covariates import covariates_validate
from annotators.models import CovariateSchema
from tests.factories import researcher_make

ADD = "admin:annotators_covariateschema_add"


def _post(client, **rows):
    return client.post(reverse(ADD), {"name": "Background", **rows}, follow=True)


@pytest.mark.django_db
def test_rows_become_questions_in_order_and_empty_rows_are_skipped(client):
    client.force_login(researcher_make("q-author"))
    answer = _post(
        client,
        q1_key="expertise", q1_label="Your field?", q1_type="choice",
        q1_choices="novice\n expert \n\n", q1_required="on",
        q3_key="age", q3_label="Your age", q3_type="number", q3_min="18", q3_max="99",
        q4_key="note", q4_label="Anything else?", q4_type="text",
    )  # fmt: skip
    assert answer.status_code == 200 and "was added successfully" in answer.content.decode()
    schema = CovariateSchema.objects.get(name="Background")
    assert schema.questions == [
        {"key": "expertise", "label": "Your field?", "type": "choice",
         "choices": ["novice", "expert"], "required": True},
        {"key": "age", "label": "Your age", "type": "number", "min": 18.0, "max": 99.0,
         "required": False},
        {"key": "note", "label": "Anything else?", "type": "text", "required": False},
    ]  # fmt: skip
    # What the annotator pages validate against.
    assert covariates_validate(questions=schema.questions, answers={"expertise": "expert"}) == {
        "expertise": "expert"
    }
    page = client.get(reverse("admin:annotators_covariateschema_change", args=[schema.pk]))
    html = page.content.decode()
    assert 'value="expertise"' in html and "novice\nexpert</textarea>" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rows, message",
    [
        ({"q1_key": "x", "q1_label": "X?", "q1_type": "choice", "q1_choices": "only"},
         "question 1: a choice question needs at least 2 choices"),
        ({"q1_key": "x", "q1_label": "X?", "q1_type": "text",
          "q2_key": "x", "q2_label": "Again?", "q2_type": "text"},
         "question 2: key &#x27;x&#x27; is used twice"),
        ({"q1_key": "x", "q1_type": "text"}, "question 1: &#x27;label&#x27; is missing"),
        ({}, "the questionnaire needs a non-empty list"),
        ({"q1_key": "n", "q1_label": "N?", "q1_type": "number", "q1_min": "5", "q1_max": "1"},
         "the maximum is below the minimum"),
    ],
)  # fmt: skip
def test_a_mistake_is_refused_with_what_to_fix(client, rows, message):
    client.force_login(researcher_make("q-mistaken"))
    answer = _post(client, **rows).content.decode()
    assert message in answer
    assert not CovariateSchema.objects.exists()
