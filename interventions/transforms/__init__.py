"""Rule transforms: pure functions ``apply(text, *, rng, **parameters) -> str``.

Each module names its attribute (``NAME``) and a ``VERSION`` recorded on every response
it produces, so a change of rule never silently mixes with earlier stimuli.
"""

from types import ModuleType

from interventions.transforms import length

TRANSFORMS: dict[str, ModuleType] = {module.NAME: module for module in (length,)}


def transform_get(name: str) -> ModuleType:
    try:
        return TRANSFORMS[name]
    except KeyError:
        known = ", ".join(sorted(TRANSFORMS))
        raise ValueError(f"unknown transform {name!r}; known transforms: {known}") from None
