"""A reward-model audit in Chromium, as a researcher runs one without the shell: add the
built-in text model in the admin by uploading the study's own export, follow the results
page's link to the audit page, run the audit, read the table, its sentence and figure;
a bad scores file is refused with the line to fix."""

import zipfile

import pytest
from django.db import connections

from audit.models import AuditResult, RewardModel, RewardScore
from collection.exports.services import export_write
from tests.analysis.helpers import study_with_every_figure
from tests.e2e.admin_browser import SHOTS, researcher_page
from tests.e2e.browser import accessible

pytestmark = pytest.mark.browser


def test_a_researcher_trains_the_text_model_and_audits_it_beside_people(
    transactional_db, live_server, chromium, tmp_path
):
    page, researcher = researcher_page(chromium, live_server.url, "auditor")
    study = study_with_every_figure(researcher, annotators=20, seed=4)
    bundle = tmp_path / "trl.zip"
    export_write(study=study, format="trl", file_format="jsonl", options={}, out=bundle)
    export = tmp_path / "trl.jsonl"
    with zipfile.ZipFile(bundle) as z:
        export.write_bytes(z.read(f"{study.slug}-trl.jsonl"))
    bad_scores = tmp_path / "scores.jsonl"
    bad_scores.write_text('{"stimulus": 1, "side": "left", "score": 2}\n')
    try:
        # The admin: a text model trained on the export.
        page.goto(f"{live_server.url}/admin/audit/rewardmodel/add/")
        page.fill("#id_name", "bt-from-export")
        page.select_option("#id_source", "text")
        page.set_input_files("#id_export", str(export))
        page.screenshot(path=str(SHOTS / "audit_admin_add.png"), full_page=True)
        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist")
        assert "Audit it from a study's results page" in page.inner_text(".messagelist")
        model = RewardModel.objects.get(name="bt-from-export")
        assert model.owner == researcher and model.parameters["pairs"] > 0

        # The results page leads to the audit page.
        page.goto(f"{live_server.url}/results/{study.slug}/")
        section = page.locator("#reward-audits")
        assert "Reward-model audit" in section.inner_text()
        section.get_by_role("link", name="Audit a reward model on these pairs").click()
        page.wait_for_url(f"**/audit/{study.slug}/")
        assert "No audit yet." in page.inner_text("main")
        page.select_option("#id_reward_model", str(model.pk))
        page.get_by_role("button", name="Audit").click()
        page.wait_for_selector(f"#audit-{model.pk}")
        sentence = page.inner_text(f"#audit-{model.pk} td.sentence")
        assert sentence.startswith("The model scored the longer answer higher in ")
        assert "people chose it in" in sentence
        image = page.locator(f"img[src$='/figure/{model.pk}.svg']")
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert AuditResult.objects.filter(reward_model=model, study=study).count() == 1
        accessible(page)
        page.screenshot(path=str(SHOTS / "audit_page.png"), full_page=True)

        # A scores model with a wrong file: the line and what to fix, nothing stored.
        scores = RewardModel.objects.create(
            name="uploaded-scores", source=RewardModel.Source.SCORES, owner=researcher
        )
        page.reload()
        page.select_option("#id_reward_model", str(scores.pk))
        page.set_input_files("#id_scores", str(bad_scores))
        page.get_by_role("button", name="Audit").click()
        alert = page.get_by_role("alert")
        assert "line 1" in alert.inner_text() and "'side'" in alert.inner_text()
        assert not RewardScore.objects.filter(reward_model=scores).exists()
        accessible(page)
        page.screenshot(path=str(SHOTS / "audit_bad_scores.png"), full_page=True)

        # The results page now shows the audit under the estimates.
        page.goto(f"{live_server.url}/results/{study.slug}/")
        assert page.locator(f"#reward-audits #audit-{model.pk}").count() == 1
        accessible(page)
        page.locator("#reward-audits").screenshot(path=str(SHOTS / "audit_results_section.png"))
    finally:
        connections.close_all()
