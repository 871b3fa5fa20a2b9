"""Every index is written on every insert (and on every update that is not HOT): none of
our tables keeps an index that another index of the same table already provides."""

import pytest
from django.apps import apps
from django.db import connection

OURS = ("annotators", "interventions", "collection", "analysis", "audit", "simulation")


def _redundant(table: str) -> list[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    indexes = {
        name: tuple(c["columns"])
        for name, c in found.items()
        if c["index"] or c["unique"] or c["primary_key"]
    }
    # A plain (non-unique) index is redundant when another index starts with its columns;
    # a partial index (whose definition introspection does not give) counts as its own.
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
    tables = {
        model._meta.db_table for label in OURS for model in apps.get_app_config(label).get_models()
    }
    assert len(tables) > 20
    problems = [p for table in sorted(tables) for p in _redundant(table)]
    assert problems == [], "\n".join(problems)
