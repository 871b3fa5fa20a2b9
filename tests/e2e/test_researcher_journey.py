"""A researcher's whole study in Chromium, without the shell: import held-out prompts,
install the catalogue, make a stimulus set and its attention checks, write the
questionnaire, build the study in the admin, launch it, let simulated annotators label
it through the live server, and read the results page with every figure.

Two steps are a worker's, run here in-process as the other browser tests do: the stimulus
generation the admin action queues, and the refreshes (tests/integration runs both on a
real worker)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection, connections

from analysis.figures import NAMES
from analysis.services import study_refresh
from collection.models import Label, Study
from interventions.generation import stimulus_set_generate
from interventions.models import Intervention, Stimulus, StimulusSet
from tests.e2e.admin_browser import SHOTS, researcher_page
from tests.e2e.browser import accessible
from tests.factories import LENGTH_FILE
from tests.simulation.helpers import population_file

pytestmark = pytest.mark.browser


def _action(page, url: str, pk: int, action: str) -> str:
    page.goto(url)
    page.check(f"input[name=_selected_action][value='{pk}']")
    page.select_option("select[name=action]", action)
    with page.expect_navigation():
        page.click("button[name=index]")
    return page.inner_text(".messagelist")


def _save(page) -> None:
    """Save the admin form; a refusal fails the test with the form's own errors."""
    with page.expect_navigation():
        page.click("input[name=_save]")
    errors = page.locator(".errornote, .errorlist")
    assert errors.count() == 0, errors.all_inner_texts()


def _pick(page, field: str, text: str) -> None:
    """Move an option across a filter_horizontal widget."""
    page.select_option(f"#id_{field}_from", label=text)
    page.click(f"#id_{field}_add")


def test_a_researcher_runs_a_study_from_import_to_results(
    transactional_db, live_server, chromium, tmp_path
):
    base = live_server.url
    Intervention.objects.all().delete()  # a new install: the catalogue is not there yet
    page, researcher = researcher_page(chromium, base, "journey")
    try:
        # Prompts with their responses, imported in the admin.
        page.goto(f"{base}/admin/interventions/prompt/")
        page.click("text=Import JSONL")
        page.set_input_files("#id_file", str(LENGTH_FILE))
        page.fill("#id_source", "held-out")
        with page.expect_navigation():
            page.click("input[type=submit][value=Import]")
        assert "Imported" in page.inner_text(".messagelist")

        # The built-in interventions, from the empty list's button.
        page.goto(f"{base}/admin/interventions/intervention/")
        with page.expect_navigation():
            page.click("#install-catalogue")
        assert "built-in interventions" in page.inner_text(".messagelist")

        # A stimulus set from the import, then its pairs and five attention checks.
        page.goto(f"{base}/admin/interventions/stimulusset/add/")
        page.fill("#id_name", "held-out length")
        page.select_option("#id_response_source", "held-out")
        _pick(page, "interventions", "length-longer")
        _save(page)
        stimulus_set = StimulusSet.objects.get(name="held-out length")
        url = f"{base}/admin/interventions/stimulusset/"
        assert "Queued generation" in _action(page, url, stimulus_set.pk, "generate")
        stimulus_set_generate(stimulus_set=stimulus_set)  # the worker's part
        assert "added 5 attention checks" in _action(page, url, stimulus_set.pk, "attention_checks")
        page.screenshot(path=str(SHOTS / "journey-stimulus-sets.png"), full_page=True)

        # The questionnaire the simulated population answers.
        page.goto(f"{base}/admin/annotators/covariateschema/add/")
        page.fill("#id_name", "Background")
        page.fill("#id_q1_key", "expertise")
        page.fill("#id_q1_label", "How much do you know about the topics?")
        page.select_option("#id_q1_type", "choice")
        page.fill("#id_q1_choices", "little\nsome\nexpert")
        _save(page)

        # The study, built in the admin and launched.
        page.goto(f"{base}/admin/collection/study/add/")
        page.fill("#id_title", "Held-out length study")
        _pick(page, "stimulus_sets", "held-out length")
        page.fill("#id_replication_factor", "12")
        page.fill("#id_labels_per_annotator", "8")
        page.fill("#id_label_target", "200")
        page.fill("#id_attention_check_rate", "0.125")
        page.fill("#id_min_annotators", "2")
        page.fill("#id_consent_text", "You will compare answers for about ten minutes.")
        page.fill("#id_instructions", "Pick the better answer.")
        page.select_option("#id_covariate_schema", label="Background")
        page.fill("#id_completion_code", "C0MPLETE")
        page.screenshot(path=str(SHOTS / "journey-study-add.png"), full_page=True)
        _save(page)
        assert "was added successfully" in page.inner_text(".messagelist")
        study = Study.objects.get(title="Held-out length study")
        assert list(study.owners.all()) == [researcher]
        assert "is running" in _action(page, f"{base}/admin/collection/study/", study.pk, "launch")

        # Simulated annotators through the live server, refreshed after each batch.
        threads = "3" if connection.vendor == "postgresql" else "1"
        for batch in range(4):
            call_command(
                "simulate", study.slug, "--population", str(population_file(tmp_path)),
                "--annotators", "6", "--base-url", base, "--concurrency", threads,
                "--seed", str(batch), stdout=io.StringIO(),
            )  # fmt: skip
            study_refresh(study_id=study.pk)  # the worker's part
        labels = Label.objects.filter(study=study)
        assert labels.count() >= 150
        assert labels.filter(assignment__stimulus__is_attention_check=True).exists()
        assert Stimulus.objects.filter(stimulus_set=stimulus_set).count() > 5

        # The results page with every figure drawn.
        page.goto(f"{base}/results/{study.slug}/")
        for name in NAMES:
            image = page.locator(f"#figure-{name} img")
            assert image.count() == 1, name
            image.scroll_into_view_if_needed()
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
            )
        assert "length-longer" in page.inner_text("#latest")
        accessible(page)
        page.screenshot(path=str(SHOTS / "journey-results.png"), full_page=True)
    finally:
        connections.close_all()
