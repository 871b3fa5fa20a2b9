import numpy as np
import pytest

from analysis.estimators.grouping import factorize
from analysis.estimators.logit import side_counts, side_counts_by_stratum
from analysis.estimators.sums import cluster_sums, cluster_sums_by_stratum
from tests.analysis.estimators.simdata import label_arrays, simulate_labels


@pytest.mark.parametrize(
    "values",
    [
        np.array([5, 3, 3, 9, 0, 5]),
        np.array([-2, 7, -2, 1]),
        np.array([10**12, 3, 10**12]),
        np.array(["b", "a", "c", "a"]),
    ],
)
def test_factorize_equals_numpy_unique(values):
    ids, index = factorize(values)
    ref_ids, ref_index = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_array_equal(index, ref_index)


def test_per_stratum_sums_and_counts_equal_separate_passes():
    rng = np.random.default_rng(9)
    data = simulate_labels(rng, n_annotators=30, per=12, tie_rate=0.1)
    stratum = rng.integers(0, 4, data["outcome"].size) * 10
    keep = ~((stratum == 30) & (data["annotator"] < 10))  # some annotators miss a stratum
    arrays = {k: v[keep] for k, v in label_arrays(data).items()}
    stratum = stratum[keep]
    sums = cluster_sums_by_stratum(**arrays, stratum=stratum)
    counts = side_counts_by_stratum(
        outcome=arrays["outcome"],
        treated_on_left=arrays["treated_on_left"],
        annotator=arrays["annotator"],
        stratum=stratum,
    )
    assert sorted(sums) == sorted(counts) == [0, 10, 20, 30]
    for key in sums:
        rows = stratum == key
        ids, ref = cluster_sums(**{k: v[rows] for k, v in arrays.items()})
        np.testing.assert_array_equal(sums[key][0], ids)
        np.testing.assert_allclose(sums[key][1].xtwx, ref.xtwx, rtol=1e-12)
        np.testing.assert_allclose(sums[key][1].xtwy, ref.xtwy, rtol=1e-12)
        np.testing.assert_array_equal(sums[key][1].n, ref.n)
        ids, ref_counts = side_counts(
            outcome=arrays["outcome"][rows],
            treated_on_left=arrays["treated_on_left"][rows],
            annotator=arrays["annotator"][rows],
        )
        np.testing.assert_array_equal(counts[key][0], ids)
        np.testing.assert_allclose(counts[key][1].successes, ref_counts.successes, rtol=1e-12)
        np.testing.assert_array_equal(counts[key][1].n, ref_counts.n)
    assert sums[30][0].min() >= 10 and sums[0][0].min() == 0
