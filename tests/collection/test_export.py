import json
import uuid

import pytest
from django.core.management import call_command

from collection.export import dataset_rows
from collection.services import assignment_next, label_submit
from tests.factories import enrollment_make


def _labelled(study, answers: list[tuple[str, int]]):
    """One annotator labels the next pairs with these (choice, strength) answers."""
    enrollment = enrollment_make(study)
    for choice, strength in answers:
        a = assignment_next(enrollment_id=enrollment.pk).assignment
        label_submit(
            enrollment_id=enrollment.pk,
            assignment_id=a.pk,
            submission_id=uuid.uuid4(),
            choice=choice,
            strength=strength,
        )
    return enrollment


@pytest.mark.django_db
def test_export_rows_are_trl_pairs_with_causal_metadata(study, tmp_path):
    enrollment = _labelled(study, [("left", 1), ("right", 1), ("tie", 1), ("left", 1)])
    rows = list(dataset_rows(study=study))
    # The tie (y = 1/2 by default) is two half-weight rows, one per side.
    assert len(rows) == 5 and sum(r["weight"] for r in rows) == 4
    tie = [r for r in rows if r["choice"] == "tie"]
    assert [(r["chosen_is_treated"], r["weight"], r["y"]) for r in tie] == [
        (True, 0.5, 0.5),
        (False, 0.5, 0.5),
    ]
    for row in rows:
        if row["choice"] == "tie":
            continue
        from interventions.models import Stimulus

        stimulus = Stimulus.objects.get(pk=row["stimulus_id"])
        picked_left = row["choice"] == "left"
        assert row["chosen_is_treated"] == (picked_left == row["treated_on_left"])
        winner = stimulus.treated if row["chosen_is_treated"] else stimulus.control
        loser = stimulus.control if row["chosen_is_treated"] else stimulus.treated
        assert (row["chosen"], row["rejected"]) == (winner.text, loser.text)
        assert row["prompt"] == stimulus.prompt.text
        assert row["annotator"] == enrollment.annotator.code
        assert 0 < row["propensity"] <= 1 and row["treatment"] == {row["cell"]: 1}
    out = tmp_path / "out.jsonl"
    book = tmp_path / "codebook.json"
    call_command("export_dataset", study.slug, "--out", str(out), "--codebook", str(book))
    assert [json.loads(line) for line in out.read_text().splitlines()] == rows
    described = json.loads(book.read_text())
    assert set(described) == set(rows[0]) and all(described.values())


@pytest.mark.django_db
@pytest.mark.parametrize(("ties", "strength"), [("exclude", "ignore"), ("half", "graded")])
def test_export_carries_the_live_outcome_under_the_studys_settings(study, ties, strength):
    study.ties, study.strength = ties, strength
    study.save()
    _labelled(study, [("left", 1), ("tie", 2), ("right", 3), ("left", 3)])
    rows = list(dataset_rows(study=study))
    by_label: dict[int, float] = {}
    for row in rows:
        share = row["weight"] if row["chosen_is_treated"] else 0.0
        by_label[row["label_id"]] = by_label.get(row["label_id"], 0.0) + share
        assert by_label[row["label_id"]] <= row["y"] + 1e-12
    assert all(by_label[r["label_id"]] == pytest.approx(r["y"]) for r in rows)
    if ties == "exclude":
        assert len(by_label) == 3 and all(r["choice"] != "tie" for r in rows)
    else:
        assert len(by_label) == 4
        assert any(0 < r["y"] < 1 and r["choice"] != "tie" for r in rows)
