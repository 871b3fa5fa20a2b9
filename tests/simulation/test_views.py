"""Truth against estimate: readers of the study only, and what it shows before estimates."""

import numpy as np

from analysis.services import study_refresh
from simulation.population_file import population_load
from simulation.selectors import planted_effects
from simulation.services import simulation_run_create
from tests.analysis.helpers import label_study
from tests.factories import researcher_make, stimulus_set_make, study_make
from tests.simulation.helpers import population_file, simulated_study_make


def test_only_readers_see_the_planted_effects(db, client, tmp_path):
    study = simulated_study_make(labels_per_annotator=3)
    owner, stranger = researcher_make("sim-owner"), researcher_make("sim-stranger")
    study.owners.add(owner)
    client.force_login(owner)
    assert "has not been simulated" in client.get(f"/simulation/{study.slug}/").content.decode()
    population = population_load(population_file(tmp_path))
    run = simulation_run_create(
        study=study, population=population, seed=1, annotators=3, base_url="http://x"
    )
    (planted,) = run.planted.all()
    page = client.get(f"/simulation/{study.slug}/").content.decode()
    assert "length-lovers" in page and f"{planted.effect:.3f}" in page
    assert "&mdash;" in page  # no estimate yet: a dash, not a number
    client.force_login(stranger)
    assert client.get(f"/simulation/{study.slug}/").status_code == 404


def test_the_results_page_shows_the_planted_truth_beside_the_estimate(db, client, tmp_path):
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=12), labels_per_annotator=6, min_annotators=2
    )
    owner = researcher_make("sim-reader")
    study.owners.add(owner)
    client.force_login(owner)
    label_study(study, annotators=4, rng=np.random.default_rng(2), p_treated=0.7)
    study_refresh(study_id=study.pk)
    results = f"/results/{study.slug}/"
    assert "simulation-truth" not in client.get(results).content.decode()  # never simulated
    population = population_load(population_file(tmp_path))
    run = simulation_run_create(
        study=study, population=population, seed=1, annotators=4, base_url="http://x"
    )
    page = client.get(results).content.decode()
    (planted,) = run.planted.all()
    assert 'id="simulation-truth"' in page and f"{planted.effect:.3f}" in page
    (estimate,) = [row for row in planted_effects(study) if row.estimate is not None]
    assert f"{estimate.estimate:.3f}" in page
