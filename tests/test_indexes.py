"""Every index is written on every insert (and on every update that is not HOT): none of
our tables keeps an index that another index of the same table already provides."""

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import UniqueConstraint

OURS = ("annotators", "interventions", "collection", "analysis", "audit", "simulation")


def _partial(model) -> set[str]:
    """Names of the model's partial indexes and unique constraints (with a condition)."""
    meta = model._meta
    indexed = [*meta.indexes, *(c for c in meta.constraints if isinstance(c, UniqueConstraint))]
    return {i.name for i in indexed if i.condition is not None}


def _redundant(table: str, partial: set[str]) -> list[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    # A partial index covers only its rows: it neither makes another redundant nor is.
    indexes = {
        name: tuple(c["columns"])
        for name, c in found.items()
        if (c["index"] or c["unique"] or c["primary_key"]) and name not in partial
    }
    # A plain (non-unique) index is redundant when another index starts with its columns.
    out = []
    for name, columns in indexes.items():
        plain = found[name]["index"] and not found[name]["unique"]
        if not plain or not columns:
            continue
        for other, theirs in indexes.items():
            if other != name and theirs[: len(columns)] == columns and len(theirs) > len(columns):
                out.append(f"{table}.{name} {columns} is the start of {other} {theirs}")
    return out


@pytest.mark.django_db
def test_no_index_is_the_start_of_another_of_its_table():
    models = [model for label in OURS for model in apps.get_app_config(label).get_models()]
    assert len(models) > 20
    problems = [p for m in models for p in _redundant(m._meta.db_table, _partial(m))]
    assert problems == [], "\n".join(problems)
