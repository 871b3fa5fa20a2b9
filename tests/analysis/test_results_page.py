import csv
import io

import numpy as np
import pytest

from analysis.selectors import estimates_latest
from analysis.services import study_refresh
from tests.analysis.helpers import label_study
from tests.factories import stimulus_set_make, study_make, user_make


@pytest.fixture
def owned_study(db):
    """A study of 20 annotators (enough for every figure, the sequence included) and its
    owner."""
    owner = user_make("owner")
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=30), replication_factor=4, labels_per_annotator=3
    )
    study.owners.add(owner)
    label_study(study, annotators=20, rng=np.random.default_rng(0))
    study_refresh(study_id=study.pk)
    return owner, study


@pytest.mark.django_db
def test_owner_sees_estimates_and_an_svg_plot_without_inline_script(client, owned_study):
    owner, study = owned_study
    label_study(study, annotators=2, rng=np.random.default_rng(1))
    study_refresh(study_id=study.pk)
    client.force_login(owner)
    response = client.get(f"/results/{study.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and html.count("<polyline") >= 3  # estimate and CS bounds
    assert "<script" not in html and "style=" not in html
    assert "length-longer" in html and 'id="latest"' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_researcher_cannot_see_a_study_they_do_not_own(client, study):
    client.force_login(user_make("stranger"))
    assert client.get(f"/results/{study.slug}/").status_code == 404
    other = study_make(stimulus_set=study.stimulus_sets.first(), slug="mine")
    other.owners.add(user_make("me"))
    client.logout()
    assert client.get(f"/results/{other.slug}/").status_code == 302  # to the admin login


@pytest.mark.django_db
def test_admin_lists_refresh_runs_with_a_link_to_the_results(client, study):
    owner = user_make("owner2", superuser=True)
    label_study(study, annotators=2, rng=np.random.default_rng(2))
    study_refresh(study_id=study.pk)
    client.force_login(owner)
    html = client.get("/admin/analysis/refreshrun/").content.decode()
    assert f'href="/results/{study.slug}/"' in html and "incremental" in html


@pytest.mark.django_db
def test_the_estimates_download_as_csv_with_the_pages_figures(client, owned_study):
    owner, study = owned_study
    url = f"/results/{study.slug}/estimates.csv"
    client.force_login(user_make("csv-stranger"))
    assert client.get(url).status_code == 404
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    latest = estimates_latest(study=study, subgroups=True)
    assert len(rows) == len(latest) > 0
    for row, estimate in zip(rows, latest, strict=True):
        assert float(row["estimate"]) == estimate.point
        assert row["ci_low"] == ("" if estimate.ci_low is None else str(estimate.ci_low))
        assert row["weighting"] == study.estimand and row["annotators"] == "20"
