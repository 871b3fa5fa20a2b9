"""The project's own small reward model: Bradley-Terry on text features, numpy only.

A response's reward is r(x) = w . f(x), with f a fixed featuriser: six dense measures
(log word count, markdown marks, hedges, politeness, flattery, numbers) and the log
counts of its words hashed into HASH_DIM buckets (crc32, stable across processes). The
prompt is not read: the model scores answers, which is all an audit of response
attributes needs. Training maximises the Bradley-Terry likelihood
P(a beats b) = expit(r(a) - r(b)), i.e. a logistic regression without intercept on
feature differences, minus an optional ridge penalty (l2 / 2) |w|^2, by Newton's method.
With l2 = 0 it equals statsmodels' ``Logit(y, f(a) - f(b)).fit()``.
Reference: Bradley and Terry (1952), Biometrika 39(3/4); Ouyang et al. (2022), sec. 3.5.
"""

import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit

from interventions.measures import FLATTERY, HEDGES, POLITENESS

FEATURES = "counterpoint-text-v1"
HASH_DIM = 256
DENSE = ("log_words", "markdown", "hedges", "politeness", "flattery", "numbers")
_WORD = re.compile(r"[a-z0-9']+")
_MARKDOWN_LINE = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\d+[.)]\s)", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")


def featuriser_fingerprint() -> str:
    """A digest of every pattern the features count, the lexicons of
    ``interventions.measures`` included. Those lexicons are tuned for the manipulation
    checks and may change; a model's weights mean something only for the features they
    were trained on, so a model is stored with this digest and refused under another."""
    patterns = (_WORD, _MARKDOWN_LINE, _BOLD, _NUMBER, HEDGES, POLITENESS, FLATTERY)
    text = "\n".join(f"{p.pattern}/{p.flags}" for p in patterns)
    return f"{zlib.crc32(text.encode()):08x}"


def text_features(text: str) -> np.ndarray:
    words = _WORD.findall(text.lower())
    dense = [
        len(words),
        len(_MARKDOWN_LINE.findall(text)) + len(_BOLD.findall(text)),
        len(HEDGES.findall(text)),
        len(POLITENESS.findall(text)),
        len(FLATTERY.findall(text)),
        len(_NUMBER.findall(text)),
    ]
    counts = np.zeros(HASH_DIM)
    for word in words:
        counts[zlib.crc32(word.encode()) % HASH_DIM] += 1
    return np.log1p(np.concatenate([np.asarray(dense, dtype=float), counts]))


def features_matrix(texts: Iterable[str]) -> np.ndarray:
    rows = [text_features(t) for t in texts]
    return np.vstack(rows) if rows else np.zeros((0, len(DENSE) + HASH_DIM))


@dataclass(frozen=True)
class BradleyTerryFit:
    weights: np.ndarray
    iterations: int
    converged: bool
    log_likelihood: float


def bradley_terry_fit(
    difference: np.ndarray,
    outcome: np.ndarray,
    *,
    l2: float = 0.0,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> BradleyTerryFit:
    """Weights maximising sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)] - l2/2 |w|^2 with
    p_i = expit(d_i . w); ``difference`` holds d_i = f(first) - f(second) and ``outcome``
    y_i = 1 when the first won (0.5 for a tie). Newton steps with step halving; stops when
    the largest step is below ``tol``. Raises ValueError when the data separate perfectly
    and l2 = 0 (no finite maximum)."""
    d = np.asarray(difference, dtype=float)
    y = np.asarray(outcome, dtype=float)
    if d.ndim != 2 or len(d) != len(y) or not len(y):
        raise ValueError("need a non-empty matrix of feature differences and one outcome per row")
    w = np.zeros(d.shape[1])

    def objective(w: np.ndarray) -> float:
        eta = d @ w
        return float(y @ log_expit(eta) + (1 - y) @ log_expit(-eta) - l2 / 2 * w @ w)

    current = objective(w)
    iterations, converged = 0, False
    while iterations < max_iter and not converged:
        iterations += 1
        p = expit(d @ w)
        gradient = d.T @ (y - p) - l2 * w
        hessian = (d * (p * (1 - p))[:, None]).T @ d + l2 * np.eye(d.shape[1])
        step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        scale = 1.0
        while scale > 1e-8:
            candidate = w + scale * step
            value = objective(candidate)
            if value >= current - 1e-12:
                break
            scale /= 2
        w, current = candidate, value
        converged = bool(np.abs(scale * step).max() < tol)
    # Separated pairs: the likelihood climbs towards 0 as the weights run off to infinity.
    if l2 == 0 and (not converged or current > -1e-6 * len(y)):
        raise ValueError("the training pairs separate perfectly: set l2 > 0")
    return BradleyTerryFit(w, iterations, converged, current)


@dataclass(frozen=True)
class TextRewardModel:
    weights: np.ndarray
    l2: float
    pairs: int

    def score(self, texts: Iterable[str]) -> np.ndarray:
        return features_matrix(texts) @ self.weights

    def to_json(self) -> dict:
        return {
            "features": FEATURES,
            "fingerprint": featuriser_fingerprint(),
            "hash_dim": HASH_DIM,
            "dense": list(DENSE),
            "weights": [float(v) for v in self.weights],
            "l2": self.l2,
            "pairs": self.pairs,
        }

    @classmethod
    def from_json(cls, data: dict) -> "TextRewardModel":
        if data.get("features") != FEATURES or data.get("hash_dim") != HASH_DIM:
            raise ValueError(
                f"these parameters are for features {data.get('features')!r}; "
                f"this version reads {FEATURES!r}: train the model again"
            )
        # Stored before fingerprints were: read as they are (nothing to compare).
        stored = data.get("fingerprint")
        if stored is not None and stored != featuriser_fingerprint():
            raise ValueError(
                f"these parameters were trained on features whose word lists or patterns "
                f"have changed since (fingerprint {stored}, now "
                f"{featuriser_fingerprint()}): train the model again"
            )
        return cls(np.asarray(data["weights"], dtype=float), float(data["l2"]), int(data["pairs"]))


def text_model_train(
    chosen: list[str], rejected: list[str], *, l2: float = 1.0, seed: int = 0
) -> TextRewardModel:
    """Fits the model on preference pairs. Each pair's order is a recorded coin flip
    (``seed``), so the outcome is not constant and the fit is a proper logistic one."""
    if len(chosen) != len(rejected) or not chosen:
        raise ValueError("need as many rejected as chosen responses, at least one pair")
    flip = np.random.default_rng(seed).random(len(chosen)) < 0.5
    a, b = features_matrix(chosen), features_matrix(rejected)
    difference = np.where(flip[:, None], b - a, a - b)
    fit = bradley_terry_fit(difference, (~flip).astype(float), l2=l2)
    return TextRewardModel(fit.weights, l2, len(chosen))


def _content(value: object, where: str) -> str:
    """A TRL field as text: a string (standard) or the last assistant turn (conversational)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[-1], dict):
        content = value[-1].get("content")
        if isinstance(content, str):
            return content
    raise ValueError(f"{where}: expected a string or a list of messages with 'content'")


def preference_pairs_read(lines: Iterable[bytes | str]) -> tuple[list[str], list[str]]:
    """(chosen, rejected) texts from a TRL preference export (JSONL, standard or
    conversational); errors name the line and what to fix."""
    chosen, rejected = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            raise ValueError(f"line {number}: not JSON ({error})") from None
        if not isinstance(row, dict) or "chosen" not in row or "rejected" not in row:
            raise ValueError(
                f"line {number}: needs 'chosen' and 'rejected' (a TRL preference export; "
                "KTO and label-table exports have no pairs)"
            )
        chosen.append(_content(row["chosen"], f"line {number} 'chosen'"))
        rejected.append(_content(row["rejected"], f"line {number} 'rejected'"))
    if not chosen:
        raise ValueError("the file holds no pairs")
    return chosen, rejected
