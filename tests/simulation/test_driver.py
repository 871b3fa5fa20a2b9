"""Simulated annotators through the live server's pages and API: enrolled by the Prolific
link, consented, questionnaire answered from their covariates, pairs labelled."""

import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from annotators.models import CovariateResponse
from collection.models import Enrollment, Label
from simulation.models import PlantedEffect, SimulationRun
from simulation.population import annotators_draw
from simulation.population_file import population_load
from simulation.selectors import planted_effects
from tests.simulation.helpers import population_file, simulated_study_make


def live_server_threads() -> int:
    """Concurrent annotators the test's live server can take: pytest-django's live server
    shares the test's one in-memory SQLite connection between its threads, so there one
    at a time; PostgreSQL takes several (the integration test runs 4)."""
    return 3 if connection.vendor == "postgresql" else 1


def test_simulate_fills_a_study_through_the_annotator_path(transactional_db, live_server, tmp_path):
    study = simulated_study_make(labels_per_annotator=4)
    path = population_file(tmp_path, abandon=0.3)
    out = io.StringIO()
    call_command(
        "simulate", study.slug, "--population", str(path), "--annotators", "6",
        "--base-url", live_server.url, "--concurrency", str(live_server_threads()), stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "planted length-longer: +0." in text
    enrollments = Enrollment.objects.filter(study=study)
    assert enrollments.count() == 6
    assert all(e.consented_at is not None for e in enrollments)
    labels = Label.objects.filter(study=study).count()
    returned = enrollments.filter(returned_at__isnull=False).count()
    completed = enrollments.filter(completed_at__isnull=False).count()
    assert completed + returned == 6 and labels == sum(e.labels_done for e in enrollments)
    assert f"6 annotators gave {labels} labels" in text
    # The questionnaire got each annotator's drawn covariate, in the annotators' order.
    population = population_load(path)
    drawn = annotators_draw(population, 6, np.random.default_rng(population.seed))
    answers = CovariateResponse.objects.filter(annotator__enrollments__study=study)
    assert sorted(a.answers["expertise"] for a in answers) == sorted(drawn.covariates["expertise"])
    assert {a.answers["english"] for a in answers} <= {"yes", "no"}
    # The run is recorded with its population text, seed and planted effect.
    run = SimulationRun.objects.get(study=study)
    assert run.population_toml == path.read_text() and run.seed == 4
    (planted,) = PlantedEffect.objects.filter(run=run)
    assert 0.15 < planted.effect < 0.5 and planted.pairs > 10
    (row,) = planted_effects(study)
    assert row.intervention == "length-longer" and row.planted == planted.effect


def test_a_population_the_questionnaire_cannot_record_is_refused(transactional_db, tmp_path):
    study = simulated_study_make(labels_per_annotator=4)
    path = tmp_path / "bad.toml"
    path.write_text(
        population_file(tmp_path).read_text().replace('"some", "expert"', '"some", "guru"')
        .replace("expert = -0.6", "guru = -0.6")
    )  # fmt: skip
    with pytest.raises(CommandError, match="level\\(s\\) guru are not answers of the question"):
        call_command(
            "simulate", study.slug, "--population", str(path), "--annotators", "2",
            "--base-url", "http://127.0.0.1:9", stdout=io.StringIO(),
        )  # fmt: skip
    assert not Enrollment.objects.filter(study=study).exists()


def test_unknown_study_and_bad_population_are_command_errors(db, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('name = "x"\n[preferences.verbosity]\nlog_odds = 1\n')
    with pytest.raises(CommandError, match="no study with slug 'nope'"):
        call_command("simulate", "nope", "--population", str(path), "--annotators", "1")
    study = simulated_study_make(labels_per_annotator=2)
    with pytest.raises(CommandError, match="preferences.verbosity: unknown attribute"):
        call_command("simulate", study.slug, "--population", str(path), "--annotators", "1")
    study.status = study.Status.PAUSED
    study.save(update_fields=["status"])
    with pytest.raises(CommandError, match="is paused: launch it first"):
        call_command("simulate", study.slug, "--population", str(path), "--annotators", "1")
