"""Truth against estimate: readers of the study only, and what it shows before estimates."""

from simulation.population_file import population_load
from simulation.services import simulation_run_create
from tests.factories import researcher_make
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
