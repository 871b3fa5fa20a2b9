"""The questionnaire editor in Chromium: a researcher writes two questions in rows of
fields (the second row opened from its collapsed section), saves, and sees them again."""

import pytest
from django.db import connections

from annotators.models import CovariateSchema
from tests.e2e.admin_browser import SHOTS, researcher_page

pytestmark = pytest.mark.browser


def test_a_researcher_writes_a_questionnaire_without_json(transactional_db, live_server, chromium):
    try:
        page, _ = researcher_page(chromium, live_server.url, "q-writer")
        page.goto(f"{live_server.url}/admin/annotators/covariateschema/add/")
        page.fill("#id_name", "Background")
        page.fill("#id_q1_key", "expertise")
        page.fill("#id_q1_label", "What is your field?")
        page.select_option("#id_q1_type", "choice")
        page.fill("#id_q1_choices", "novice\nexpert")
        assert not page.is_visible("#id_q2_key")  # later rows start collapsed
        page.click("text=Question 2")
        page.fill("#id_q2_key", "age")
        page.fill("#id_q2_label", "How old are you?")
        page.select_option("#id_q2_type", "number")
        page.fill("#id_q2_min", "18")
        page.screenshot(path=str(SHOTS / "admin-questionnaire-editor.png"), full_page=True)
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        schema = CovariateSchema.objects.get(name="Background")
        assert [q["key"] for q in schema.questions] == ["expertise", "age"]
        assert schema.questions[1]["min"] == 18.0
        assert page.input_value("#id_q2_label") == "How old are you?"
    finally:
        connections.close_all()
