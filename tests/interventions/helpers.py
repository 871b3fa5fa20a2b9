"""Run a catalogue intervention's transform and check the way generation does."""

import numpy as np

from interventions.catalogue import SPECS, direction_sign
from interventions.checks import PairCheck, pair_check
from interventions.transforms import transform_run


def spec_run(name: str, text: str, seed: int = 0) -> tuple[str, dict]:
    spec = SPECS[name]
    return transform_run(
        spec.transform, text, rng=np.random.default_rng(seed), parameters=spec.parameters
    )


def spec_check(name: str, control: str, treated: str) -> PairCheck:
    spec = SPECS[name]
    return pair_check(
        control=control,
        treated=treated,
        measure=spec.check_measure,
        threshold=spec.check_threshold,
        direction=direction_sign(spec.parameters),
        tolerances=spec.tolerances,
    )
