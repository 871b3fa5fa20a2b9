"""Population files: TOML read with ``tomllib`` and checked, every error naming the key
to fix (the model itself is in ``simulation.population``)."""

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from simulation.population import (
    ATTRIBUTES,
    Behaviour,
    Covariate,
    Population,
    Preference,
)


class PopulationError(ValueError):
    """A population file that cannot be used; the message names the key to fix."""


def _number(table: Mapping[str, Any], key: str, where: str, default: float | None = None,
            *, low: float = -np.inf, high: float = np.inf) -> float:  # fmt: skip
    if key not in table:
        if default is None:
            raise PopulationError(f"{where}.{key} is missing: give a number")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PopulationError(f"{where}.{key} must be a number, found {value!r}")
    if not low <= value <= high:
        raise PopulationError(f"{where}.{key} must be between {low:g} and {high:g}, got {value}")
    return float(value)


def _only(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise PopulationError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PopulationError(f"{where} must be a table, found {type(value).__name__}")
    return value


def _covariate(name: str, raw: Any) -> Covariate:
    where = f"covariates.{name}"
    t = _table(raw, where)
    kind = t.get("type")
    recorded = t.get("recorded", True)
    if not isinstance(recorded, bool):
        raise PopulationError(f"{where}.recorded must be true or false")
    if kind == "choice":
        _only(t, {"type", "levels", "probs", "recorded"}, where)
        levels = t.get("levels")
        if (
            not isinstance(levels, list)
            or len(levels) < 2
            or not all(isinstance(v, str) and v for v in levels)
        ):
            raise PopulationError(f"{where}.levels must be a list of at least 2 names")
        if len(set(levels)) != len(levels):
            raise PopulationError(f"{where}.levels has a name twice")
        probs = t.get("probs", [1.0 / len(levels)] * len(levels))
        if (
            not isinstance(probs, list)
            or len(probs) != len(levels)
            or not all(isinstance(p, int | float) and p >= 0 for p in probs)
            or abs(sum(probs) - 1) > 1e-6
        ):
            raise PopulationError(
                f"{where}.probs must be {len(levels)} non-negative numbers summing to 1"
            )
        return Covariate(name, "choice", tuple(levels), tuple(map(float, probs)),
                         recorded=recorded)  # fmt: skip
    if kind == "number":
        _only(t, {"type", "mean", "sd", "min", "max", "recorded"}, where)
        low = _number(t, "min", where, -np.inf)
        high = _number(t, "max", where, np.inf)
        if low >= high:
            raise PopulationError(f"{where}: min must be below max")
        return Covariate(name, "number", mean=_number(t, "mean", where),
                         sd=_number(t, "sd", where, low=0), low=low, high=high,
                         recorded=recorded)  # fmt: skip
    raise PopulationError(f"{where}.type must be 'choice' or 'number', found {kind!r}")


def _preference(attribute: str, raw: Any, covariates: dict[str, Covariate]) -> Preference:
    where = f"preferences.{attribute}"
    if attribute not in ATTRIBUTES:
        raise PopulationError(f"{where}: unknown attribute; use one of {', '.join(ATTRIBUTES)}")
    t = _table(raw, where)
    _only(t, {"log_odds", "sd", "threshold", "by"}, where)
    measure, default_threshold = ATTRIBUTES[attribute]
    by: dict[str, Mapping[str, float] | float] = {}
    for name, shift in _table(t.get("by", {}), f"{where}.by").items():
        cov = covariates.get(name)
        if cov is None:
            raise PopulationError(
                f"{where}.by.{name}: no such covariate; declare [covariates.{name}] first"
            )
        if cov.kind == "number":
            by[name] = _number({name: shift}, name, f"{where}.by")
            continue
        shifts = _table(shift, f"{where}.by.{name}")
        for level in shifts:
            if level not in cov.levels:
                raise PopulationError(
                    f"{where}.by.{name}.{level}: not a level of {name} ({', '.join(cov.levels)})"
                )
            _number(shifts, level, f"{where}.by.{name}")
        by[name] = {k: float(v) for k, v in shifts.items()}
    return Preference(
        attribute=attribute,
        measure=measure,
        threshold=_number(t, "threshold", where, default_threshold, low=0),
        log_odds=_number(t, "log_odds", where, 0.0),
        sd=_number(t, "sd", where, 0.0, low=0),
        by=by,
    )


def _behaviour(raw: Any) -> Behaviour:
    t = _table(raw, "behaviour")
    _only(t, set(Behaviour.__dataclass_fields__), "behaviour")
    rate = {"low": 0.0, "high": 1.0}
    values = {
        "position_bias": _number(t, "position_bias", "behaviour", 0.0),
        "position_bias_sd": _number(t, "position_bias_sd", "behaviour", 0.0, low=0),
        "noise": _number(t, "noise", "behaviour", 0.0, low=0),
        "lapse_rate": _number(t, "lapse_rate", "behaviour", 0.0, **rate),
        "tie_rate": _number(t, "tie_rate", "behaviour", 0.0, low=0.0, high=0.99),
        "abandon_rate": _number(t, "abandon_rate", "behaviour", 0.0, low=0.0, high=0.99),
        "seconds_median": _number(t, "seconds_median", "behaviour", 20.0, low=0.1),
        "seconds_sigma": _number(t, "seconds_sigma", "behaviour", 0.5, low=0),
    }
    return Behaviour(**values)


def population_parse(text: str) -> Population:
    """A population from its TOML text, or PopulationError naming what to fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PopulationError(f"not valid TOML: {exc}") from exc
    _only(data, {"name", "description", "seed", "covariates", "preferences", "behaviour"}, "top")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PopulationError("name is missing: give the population a name")
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise PopulationError("seed must be a non-negative integer")
    covariates = {
        k: _covariate(k, v) for k, v in _table(data.get("covariates", {}), "covariates").items()
    }
    prefs = _table(data.get("preferences", {}), "preferences")
    if not prefs:
        raise PopulationError(
            "preferences is empty: give at least one, e.g. [preferences.length] log_odds = 0.3"
        )
    return Population(
        name=name.strip(),
        description=str(data.get("description", "")),
        covariates=tuple(covariates.values()),
        preferences=tuple(_preference(k, v, covariates) for k, v in prefs.items()),
        behaviour=_behaviour(data.get("behaviour", {})),
        seed=seed,
        source=text,
    )


def population_load(path: str | Path) -> Population:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PopulationError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return population_parse(text)
    except PopulationError as exc:
        raise PopulationError(f"{path.name}: {exc}") from exc


BUILTIN = Path(__file__).resolve().parent / "populations"


def builtin_populations() -> list[Path]:
    return sorted(BUILTIN.glob("*.toml"))
