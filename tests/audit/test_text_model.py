"""The built-in reward model: Bradley-Terry on text features, checked against statsmodels
and on pairs with a planted preference."""

import json

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.optimize import minimize
from scipy.special import log_expit

from audit.text_model import (
    DENSE,
    HASH_DIM,
    TextRewardModel,
    bradley_terry_fit,
    preference_pairs_read,
    text_features,
    text_model_train,
)


def _logit_data(seed: int, n: int = 400, k: int = 5):
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n, k))
    beta = rng.normal(size=k)
    y = (rng.random(n) < 1 / (1 + np.exp(-d @ beta))).astype(float)
    return d, y


@pytest.mark.parametrize("seed", range(3))
def test_unpenalised_fit_equals_statsmodels_logit_without_intercept(seed):
    d, y = _logit_data(seed)
    ours = bradley_terry_fit(d, y)
    theirs = sm.Logit(y, d).fit(disp=0, tol=1e-12, maxiter=200)
    assert ours.converged
    np.testing.assert_allclose(ours.weights, theirs.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.log_likelihood, theirs.llf, rtol=1e-10)


def test_ridge_fit_is_the_penalised_optimum():
    d, y = _logit_data(7)
    l2 = 3.0
    ours = bradley_terry_fit(d, y, l2=l2)

    # The same objective minimised by scipy's BFGS from another start.
    def loss(w):
        eta = d @ w
        return -(y @ log_expit(eta) + (1 - y) @ log_expit(-eta)) + l2 / 2 * w @ w

    theirs = minimize(loss, np.ones(d.shape[1]), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(ours.weights, theirs.x, rtol=1e-6, atol=1e-8)
    # and the penalty shrinks: the weights are smaller than the unpenalised ones
    assert np.linalg.norm(ours.weights) < np.linalg.norm(bradley_terry_fit(d, y).weights)


def test_separated_pairs_need_a_penalty():
    d = np.array([[1.0], [2.0], [-1.0], [-3.0]])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="separate perfectly"):
        bradley_terry_fit(d, y)
    assert bradley_terry_fit(d, y, l2=1.0).converged


def test_features_are_stable_and_count_what_they_say():
    f = text_features("Perhaps **this** works.\n\n- one\n- two 42")
    assert f.shape == (len(DENSE) + HASH_DIM,)
    assert f[0] == pytest.approx(np.log1p(6))  # words
    assert f[1] == pytest.approx(np.log1p(3))  # two list lines and one bold
    assert f[2] == pytest.approx(np.log1p(1))  # "perhaps"
    assert f[5] == pytest.approx(np.log1p(1))  # 42
    # crc32, not Python's salted hash: the same in every process
    assert np.array_equal(f, text_features("Perhaps **this** works.\n\n- one\n- two 42"))


def test_a_model_trained_on_pairs_where_longer_wins_scores_longer_higher():
    rng = np.random.default_rng(3)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]

    def text(n):
        return " ".join(rng.choice(words, n))

    chosen, rejected = [], []
    for _ in range(300):
        a, b = text(int(rng.integers(5, 60))), text(int(rng.integers(5, 60)))
        longer, shorter = (a, b) if len(a.split()) > len(b.split()) else (b, a)
        first_wins = rng.random() < 0.85
        chosen.append(longer if first_wins else shorter)
        rejected.append(shorter if first_wins else longer)
    model = text_model_train(chosen, rejected, l2=1.0)
    held_out = [text(n) for n in (8, 16, 32, 64)]
    scores = model.score(held_out)
    assert np.all(np.diff(scores) > 0), scores
    again = TextRewardModel.from_json(json.loads(json.dumps(model.to_json())))
    assert np.array_equal(again.score(held_out), model.score(held_out))


def test_exports_are_read_in_both_trl_forms_and_bad_lines_are_named():
    standard = json.dumps({"prompt": "p", "chosen": "yes", "rejected": "no"})
    conversational = json.dumps(
        {
            "prompt": [{"role": "user", "content": "p"}],
            "chosen": [{"role": "assistant", "content": "yes"}],
            "rejected": [{"role": "assistant", "content": "no"}],
        }
    )
    assert preference_pairs_read([standard, "", conversational]) == (["yes", "yes"], ["no", "no"])
    with pytest.raises(ValueError, match="line 2: needs 'chosen' and 'rejected'"):
        preference_pairs_read([standard, json.dumps({"prompt": "p", "completion": "x"})])
    with pytest.raises(ValueError, match="line 1: not JSON"):
        preference_pairs_read(["{oops"])
    with pytest.raises(ValueError, match="no pairs"):
        preference_pairs_read([])
    with pytest.raises(ValueError, match="newer|features"):
        TextRewardModel.from_json({"features": "v0", "hash_dim": 3})


def test_a_model_is_refused_once_the_word_lists_it_was_trained_on_change(monkeypatch):
    import re

    from audit import text_model

    chosen = ["Perhaps this works, thanks.", "A long and careful answer with 3 steps."]
    rejected = ["No.", "Great question! Maybe."]
    stored = json.loads(json.dumps(text_model_train(chosen, rejected, l2=1.0).to_json()))
    assert TextRewardModel.from_json(stored).pairs == 2
    # interventions.measures tunes its hedges for the manipulation checks: one more word.
    monkeypatch.setattr(
        text_model, "HEDGES", re.compile(text_model.HEDGES.pattern + "|arguably", re.IGNORECASE)
    )
    with pytest.raises(ValueError, match="have changed since .*train the model again"):
        TextRewardModel.from_json(stored)
    # Parameters stored before fingerprints existed are read as they are.
    legacy = {k: v for k, v in stored.items() if k != "fingerprint"}
    assert TextRewardModel.from_json(legacy).pairs == 2
