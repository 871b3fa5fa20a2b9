import json
import uuid

import pytest
from django.core.management import call_command

from collection.export import dataset_rows
from collection.services import assignment_next, label_submit
from tests.factories import enrollment_make


@pytest.mark.django_db
def test_export_rows_are_trl_pairs_with_causal_metadata(study, tmp_path):
    enrollment = enrollment_make(study)
    choices = ["left", "right", "tie", "left"]
    for choice in choices:
        a = assignment_next(enrollment_id=enrollment.pk).assignment
        label_submit(
            enrollment_id=enrollment.pk,
            assignment_id=a.pk,
            submission_id=uuid.uuid4(),
            choice=choice,
            strength=1,
        )
    rows = list(dataset_rows(study=study))
    assert len(rows) == 3  # the tie has no chosen side
    for row in rows:
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
