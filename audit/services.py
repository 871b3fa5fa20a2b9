"""Writes of the audit app: reward models, their scores, audit runs.

Scores are research data: once stored a score is never changed (a replayed upload of the
same value is accepted and stores nothing; a different value is refused). An upload or a
scoring request that fails anywhere stores nothing.
"""

import json
import math
from collections.abc import Iterable

import httpx
import numpy as np
from django.db import transaction
from django.db.models import Max

from analysis.estimators.effects import Effect
from analysis.models import Estimate
from analysis.selectors import estimates_latest, study_interventions
from audit.models import AuditResult, RewardModel, RewardScore
from audit.preference import model_preference, preference_gap
from audit.selectors import study_pairs
from audit.text_model import TextRewardModel, preference_pairs_read, text_model_train
from collection.models import Study
from interventions.models import Stimulus

SIDES = (Stimulus.Side.CONTROL, Stimulus.Side.TREATED)
MAX_SCORE_LINES = 500_000
HTTP_BATCH = 32
HTTP_TIMEOUT = 30.0


class AuditError(ValueError):
    """Bad input or an unreachable scorer: the message says what to fix."""


def text_model_create(
    *, name: str, export_lines: Iterable[bytes | str], owner=None, l2: float = 1.0, seed: int = 0
) -> RewardModel:
    """Trains the built-in text-feature model on a TRL preference export and stores it."""
    try:
        chosen, rejected = preference_pairs_read(export_lines)
        model = text_model_train(chosen, rejected, l2=l2, seed=seed)
    except ValueError as error:
        raise AuditError(f"cannot train on this export: {error}") from None
    return RewardModel.objects.create(
        name=name,
        source=RewardModel.Source.TEXT,
        parameters=model.to_json() | {"seed": seed},
        description=f"Bradley-Terry on text features, {len(chosen)} pairs, l2 {l2}.",
        owner=owner,
    )


def _score_row(number: int, line: bytes | str, allowed: set[int]) -> tuple[int, str, float]:
    try:
        row = json.loads(line)
    except ValueError as error:
        raise AuditError(f"line {number}: not JSON ({error})") from None
    if not isinstance(row, dict):
        raise AuditError(f"line {number}: expected an object with stimulus, side and score")
    stimulus, side, score = row.get("stimulus"), row.get("side"), row.get("score")
    if not isinstance(stimulus, int) or isinstance(stimulus, bool):
        raise AuditError(f"line {number}: 'stimulus' must be a stimulus id (an integer)")
    if side not in SIDES:
        raise AuditError(f"line {number}: 'side' must be 'control' or 'treated', got {side!r}")
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise AuditError(f"line {number}: 'score' must be a finite number, got {score!r}")
    if stimulus not in allowed:
        raise AuditError(
            f"line {number}: stimulus {stimulus} is not one of this study's pairs "
            "(download the study's scoring sheet for the ids)"
        )
    return stimulus, side, float(score)


def scores_import(*, reward_model: RewardModel, study: Study, lines: Iterable[bytes | str]) -> int:
    """Stores uploaded scores ({"stimulus": id, "side": "control"|"treated", "score": x}
    per line) for the study's pairs, all or nothing. Returns how many were new."""
    if reward_model.source != RewardModel.Source.SCORES:
        raise AuditError(f"{reward_model.name} computes its own scores; upload to a scores model")
    allowed = set(study_pairs(study=study).values_list("pk", flat=True))
    seen: dict[tuple[int, str], float] = {}
    for number, line in enumerate(lines, start=1):
        if number > MAX_SCORE_LINES:
            raise AuditError(f"more than {MAX_SCORE_LINES} lines: split the file")
        if not line.strip():
            continue
        stimulus, side, score = _score_row(number, line, allowed)
        if (stimulus, side) in seen:
            raise AuditError(f"line {number}: stimulus {stimulus} {side} is scored twice")
        seen[(stimulus, side)] = score
    if not seen:
        raise AuditError("the file holds no scores")
    with transaction.atomic():
        stored = {
            (s.stimulus_id, s.side): s.score
            for s in RewardScore.objects.select_for_update().filter(
                reward_model=reward_model, stimulus_id__in={k[0] for k in seen}
            )
        }
        for (stimulus, side), score in seen.items():
            if (stimulus, side) in stored and stored[(stimulus, side)] != score:
                raise AuditError(
                    f"stimulus {stimulus} {side} already has score {stored[(stimulus, side)]!r} "
                    f"from this model, not {score!r}: scores are never changed; "
                    "upload a new model's scores under a new name"
                )
        new = [
            RewardScore(reward_model=reward_model, stimulus_id=st, side=side, score=score)
            for (st, side), score in seen.items()
            if (st, side) not in stored
        ]
        RewardScore.objects.bulk_create(new)
    return len(new)


def _http_scores(url: str, items: list[dict], client: httpx.Client) -> list[float]:
    scores: list[float] = []
    for start in range(0, len(items), HTTP_BATCH):
        batch = items[start : start + HTTP_BATCH]
        try:
            answer = client.post(url, json={"items": batch}, timeout=HTTP_TIMEOUT)
            answer.raise_for_status()
            got = answer.json().get("scores")
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            raise AuditError(f"the scoring endpoint {url} failed: {error}") from None
        if (
            not isinstance(got, list)
            or len(got) != len(batch)
            or not all(isinstance(v, int | float) and math.isfinite(v) for v in got)
        ):
            raise AuditError(
                f'the scoring endpoint {url} must answer {{"scores": [...]}} with '
                f"{len(batch)} finite numbers in the order of the items"
            )
        scores.extend(float(v) for v in got)
    return scores


def scores_compute(
    *, reward_model: RewardModel, study: Study, client: httpx.Client | None = None
) -> int:
    """Scores the study's unscored pair sides with a text or HTTP model; stores all or
    nothing. Returns how many were new."""
    pairs = study_pairs(study=study).select_related("prompt", "control", "treated")
    # This study's sides only: a model may have scored many other studies' pairs.
    stored = set(
        RewardScore.objects.filter(
            reward_model=reward_model, stimulus_id__in=study_pairs(study=study).values("pk")
        ).values_list("stimulus_id", "side")
    )
    todo = [(p, side) for p in pairs for side in SIDES if (p.pk, side) not in stored]
    if not todo:
        return 0
    texts = [getattr(p, side).text for p, side in todo]
    if reward_model.source == RewardModel.Source.TEXT:
        try:
            model = TextRewardModel.from_json(reward_model.parameters)
        except (ValueError, KeyError) as error:
            raise AuditError(f"{reward_model.name}: {error}") from None
        scores = [float(v) for v in model.score(texts)]
    elif reward_model.source == RewardModel.Source.HTTP:
        items = [
            {"id": f"{p.pk}:{side}", "prompt": p.prompt.text, "response": text}
            for (p, side), text in zip(todo, texts, strict=True)
        ]
        with client or httpx.Client() as http:
            scores = _http_scores(reward_model.endpoint_url, items, http)
    else:
        raise AuditError(f"{reward_model.name} takes uploaded scores: upload them first")
    RewardScore.objects.bulk_create(
        [
            RewardScore(reward_model=reward_model, stimulus=p, side=side, score=score)
            for (p, side), score in zip(todo, scores, strict=True)
        ],
        ignore_conflicts=True,  # a concurrent run stored the same deterministic score
    )
    return len(todo)


def _human(estimate: Estimate | None) -> Effect | None:
    if estimate is None or estimate.se is None or estimate.ci_low is None:
        return None
    return Effect(estimate.point, estimate.se, estimate.ci_low, estimate.ci_high, estimate.p_value)


def _nan_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def audit_run(*, reward_model: RewardModel, study: Study) -> list[AuditResult]:
    """The model's preference for the treated side of each intervention's pairs in the
    study, beside the people's latest estimate; one new snapshot (run) of rows."""
    if reward_model.source != RewardModel.Source.SCORES:
        scores_compute(reward_model=reward_model, study=study)
    pairs = list(study_pairs(study=study).values("pk", "prompt_id", "cell"))
    scores = {
        (s["stimulus_id"], s["side"]): s["score"]
        for s in RewardScore.objects.filter(
            reward_model=reward_model, stimulus_id__in=[p["pk"] for p in pairs]
        ).values("stimulus_id", "side", "score")
    }
    humans = {
        e.intervention.name: e
        for e in estimates_latest(study=study)
        if e.estimand == Estimate.Estimand.AMCE
    }
    by_cell: dict[str, list[dict]] = {}
    for p in pairs:
        if (p["pk"], "control") in scores and (p["pk"], "treated") in scores:
            by_cell.setdefault(p["cell"], []).append(p)
    interventions = {i.name: i for i in study_interventions(study=study)}
    if not by_cell:
        raise AuditError(
            f"no pair of study {study.slug} has scores on both sides from {reward_model.name}: "
            "upload scores for the scoring sheet's rows first"
        )
    with transaction.atomic():
        last = AuditResult.objects.filter(study=study, reward_model=reward_model).aggregate(
            run=Max("run")
        )["run"]
        run = (last or 0) + 1
        rows = []
        for cell, cell_pairs in sorted(by_cell.items()):
            intervention = interventions.get(cell)
            if intervention is None:
                continue  # a factorial combination: audited through its main cells only
            sides = {
                "treated": np.array([scores[(p["pk"], "treated")] for p in cell_pairs]),
                "control": np.array([scores[(p["pk"], "control")] for p in cell_pairs]),
                "prompt": np.array([p["prompt_id"] for p in cell_pairs]),
            }
            effect = model_preference(**sides)
            bt = model_preference(**sides, scale="bradley-terry")
            human = _human(humans.get(cell))
            gap = preference_gap(effect, human) if human is not None else None
            rows.append(
                AuditResult(
                    reward_model=reward_model,
                    study=study,
                    intervention=intervention,
                    pairs=len(cell_pairs),
                    prompts=len({p["prompt_id"] for p in cell_pairs}),
                    point=effect.point,
                    se=_nan_none(effect.se),
                    ci_low=_nan_none(effect.ci_low),
                    ci_high=_nan_none(effect.ci_high),
                    bt_point=bt.point,
                    bt_ci_low=_nan_none(bt.ci_low),
                    bt_ci_high=_nan_none(bt.ci_high),
                    human_point=human.point if human else None,
                    human_se=human.se if human else None,
                    human_ci_low=human.ci_low if human else None,
                    human_ci_high=human.ci_high if human else None,
                    gap=_nan_none(gap.point) if gap else None,
                    gap_ci_low=_nan_none(gap.ci_low) if gap else None,
                    gap_ci_high=_nan_none(gap.ci_high) if gap else None,
                    run=run,
                )
            )
        return AuditResult.objects.bulk_create(rows)
