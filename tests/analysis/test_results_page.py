import csv
import io
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from django.core.cache import cache

from analysis.extras import heterogeneity_rows, interaction_rows
from analysis.figures import NAMES, figure_bytes, figure_cache_key
from analysis.selectors import estimates_latest, label_arrays, results_watermark
from analysis.services import study_refresh
from interventions.models import Intervention, StimulusSet
from interventions.services import (
    interventions_install_builtin,
    prompts_import,
    stimulus_set_generate,
)
from tests.analysis.helpers import label_study, study_with_every_figure
from tests.factories import demo_lines, study_make, user_make


@pytest.fixture
def owned_study(db):
    owner = user_make("owner")
    return owner, study_with_every_figure(owner)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.django_db
def test_owner_sees_estimates_sentences_and_every_figure_without_inline_script(client, owned_study):
    owner, study = owned_study
    client.force_login(owner)
    response = client.get(f"/results/{study.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in NAMES:
        assert f'src="/results/{study.slug}/figures/{name}.svg?w=' in html
        assert f'href="/results/{study.slug}/figures/{name}.png?download=1"' in html
    assert "<script>" not in html and "<script " in html and "style=" not in html
    assert "length-longer" in html and 'id="latest"' in html
    assert "Annotators preferred the longer answer" in html
    assert "<abbr title=" in html and "<details" in html and 'aria-live="polite"' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", NAMES)
def test_every_figure_downloads_as_valid_svg_and_png(client, owned_study, name):
    owner, study = owned_study
    client.force_login(owner)
    svg = client.get(f"/results/{study.slug}/figures/{name}.svg?download=1")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert f'filename="{study.slug}-{name}.svg"' in svg["Content-Disposition"]
    root = ET.fromstring(svg.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(root.itertext())
    assert "script" not in {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert len(texts) > 20  # titles and axis labels are text, not paths
    png = client.get(f"/results/{study.slug}/figures/{name}.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    width, height = _png_size(png.content)
    assert 700 <= width <= 1400 and 200 <= height <= 1400


@pytest.mark.django_db
def test_the_forest_figure_shows_each_intervention_and_the_legend(client, owned_study):
    owner, study = owned_study
    client.force_login(owner)
    svg = client.get(f"/results/{study.slug}/figures/forest.svg").content.decode()
    for text in ("length-longer", "95% confidence interval", "Confidence sequence", "chance"):
        assert text in svg


@pytest.mark.django_db
def test_an_unknown_figure_or_format_is_a_404_that_names_the_figures(client, owned_study):
    owner, study = owned_study
    client.force_login(owner)
    for url in ("figures/pie.svg", "figures/forest.gif"):
        response = client.get(f"/results/{study.slug}/{url}")
        assert response.status_code == 404


@pytest.mark.django_db
def test_a_stranger_gets_404_for_the_page_figures_status_and_csv(client, owned_study):
    _, study = owned_study
    client.force_login(user_make("stranger"))
    urls = ["", "estimates.csv", "status.json"]
    urls += [f"figures/{name}.{fmt}" for name in NAMES for fmt in ("svg", "png")]
    for url in urls:
        assert client.get(f"/results/{study.slug}/{url}").status_code == 404, url


@pytest.mark.django_db
def test_the_status_changes_after_a_new_label_is_refreshed(client, owned_study):
    owner, study = owned_study
    client.force_login(owner)
    before = client.get(f"/results/{study.slug}/status.json").json()["watermark"]
    assert client.get(f"/results/{study.slug}/status.json").json()["watermark"] == before
    forest_before = client.get(f"/results/{study.slug}/figures/forest.svg").content
    label_study(study, annotators=1, rng=np.random.default_rng(5))
    study_refresh(study_id=study.pk)
    after = client.get(f"/results/{study.slug}/status.json").json()["watermark"]
    assert after > before
    page = client.get(f"/results/{study.slug}/").content.decode()
    assert f'data-watermark="{after}"' in page and f"?w={after}" in page
    assert client.get(f"/results/{study.slug}/figures/forest.svg").content != forest_before


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
        if estimate.subgroup == "all":
            assert row["weighting"] == study.estimand and row["annotators"] == "20"


@pytest.mark.django_db
def test_the_heterogeneity_table_finds_a_planted_difference_and_not_a_missing_one(client):
    owner = user_make("het-owner")
    # Novices (even index) at chance, experts almost always for the treated answer.
    planted = study_with_every_figure(
        owner, annotators=28, seed=3, p_treated=lambda k: 0.97 if k % 2 else 0.5
    )
    flat = study_with_every_figure(owner, annotators=28, seed=4)
    (het,) = heterogeneity_rows(study=planted)
    assert het.question == "expertise" and het.df == 1 and het.p_value < 0.01
    assert het.sentence.startswith("The effect differs between answers to expertise")
    (none,) = heterogeneity_rows(study=flat)
    assert none.p_value > 0.05 and none.sentence.startswith("No clear sign")
    client.force_login(owner)
    html = client.get(f"/results/{planted.slug}/").content.decode()
    assert 'id="heterogeneity"' in html and het.sentence in html
    assert 'id="interactions"' not in html  # one intervention per pair: nothing to interact


@pytest.mark.django_db
def test_figures_are_cached_under_the_results_watermark(owned_study):
    _, study = owned_study
    watermark = results_watermark(study=study)
    data = figure_bytes(study=study, name="forest", fmt="png")
    key = figure_cache_key(study=study, watermark=watermark, name="forest", fmt="png")
    assert key.startswith(f"results-figure:{study.pk}:") and cache.get(key) == data
    label_study(study, annotators=1, rng=np.random.default_rng(8))
    study_refresh(study_id=study.pk)
    assert results_watermark(study=study) > watermark  # a new key: drawn afresh


@pytest.mark.django_db
def test_a_factorial_study_shows_the_interaction_of_two_interventions(client):
    interventions_install_builtin()
    source = "factorial-results"
    prompts_import(lines=demo_lines(30), source=source)
    stimulus_set = StimulusSet.objects.create(
        name="factorial", response_source=source, seed=7, design=StimulusSet.Design.FACTORIAL
    )
    names = ["hedging-more", "sycophancy-more"]
    stimulus_set.interventions.set(Intervention.objects.filter(name__in=names))
    stimulus_set_generate(stimulus_set=stimulus_set)
    owner = user_make("factorial-owner")
    study = study_make(stimulus_set=stimulus_set, replication_factor=3, labels_per_annotator=6)
    study.owners.add(owner)
    label_study(study, annotators=15, rng=np.random.default_rng(2))
    study_refresh(study_id=study.pk)
    (row,) = interaction_rows(study=study)
    assert row.term == "hedging-more:sycophancy-more"
    # The point is the least-squares coefficient of the product, recomputed by hand.
    data = label_arrays(study=study)
    t = np.array([[tr.get(n, 0) for n in names] for tr in data.treatments], dtype=float)
    x = np.column_stack([t, t[:, 0] * t[:, 1], 2.0 * data.treated_on_left - 1.0])
    beta = np.linalg.lstsq(x, data.outcome - 0.5, rcond=None)[0]
    assert row.point == pytest.approx(beta[2], abs=1e-10)
    assert row.ci_low < row.point < row.ci_high
    client.force_login(owner)
    html = client.get(f"/results/{study.slug}/").content.decode()
    assert 'id="interactions"' in html and "hedging-more:sycophancy-more" in html
