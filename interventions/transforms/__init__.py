"""Rule transforms: pure functions ``apply(text, *, rng, **parameters) -> str``.

Each module names its attribute (``NAME``) and a ``VERSION`` recorded on every response
it produces, so a change of rule never silently mixes with earlier stimuli. A module
that has something to record about its edit (which number a factual error changed)
also has ``apply_detailed`` returning ``(text, details)``.
"""

from types import ModuleType

import numpy as np

from interventions.transforms import (
    factual_error,
    hedging,
    length,
    markdown,
    politeness,
    sycophancy,
)

TRANSFORMS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (length, markdown, hedging, sycophancy, factual_error, politeness)
}


def transform_get(name: str) -> ModuleType:
    try:
        return TRANSFORMS[name]
    except KeyError:
        known = ", ".join(sorted(TRANSFORMS))
        raise ValueError(f"unknown transform {name!r}; known transforms: {known}") from None


def transform_run(
    name: str, text: str, *, rng: np.random.Generator, parameters: dict
) -> tuple[str, dict]:
    """Apply a transform by name; return the text and its record of the edit (or {})."""
    module = transform_get(name)
    if hasattr(module, "apply_detailed"):
        return module.apply_detailed(text, rng=rng, **parameters)
    return module.apply(text, rng=rng, **parameters), {}
