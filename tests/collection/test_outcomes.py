import pytest

from collection.outcomes import label_outcome

HALF, EXCLUDE, IGNORE, GRADED = "half", "exclude", "ignore", "graded"


@pytest.mark.parametrize(
    ("choice", "strength", "treated_on_left", "ties", "mode", "expected"),
    [
        ("left", 1, True, HALF, IGNORE, 1.0),
        ("right", 3, True, HALF, IGNORE, 0.0),
        ("right", 2, False, HALF, IGNORE, 1.0),
        ("tie", 1, True, HALF, IGNORE, 0.5),
        ("tie", 1, True, EXCLUDE, IGNORE, None),
        ("tie", 3, False, EXCLUDE, GRADED, None),
        ("tie", 2, False, HALF, GRADED, 0.5),
        ("left", 3, True, HALF, GRADED, 1.0),
        ("left", 1, True, HALF, GRADED, 0.5 + 1 / 6),
        ("left", 2, False, HALF, GRADED, 0.5 - 2 / 6),
        ("right", 3, True, EXCLUDE, GRADED, 0.0),
    ],
)
def test_label_outcome(choice, strength, treated_on_left, ties, mode, expected):
    y = label_outcome(
        choice=choice,
        strength=strength,
        treated_on_left=treated_on_left,
        ties=ties,
        strength_mode=mode,
    )
    assert y == (None if expected is None else pytest.approx(expected))


def test_graded_outcome_is_symmetric_and_monotone():
    treated = [
        label_outcome(
            choice="left", strength=s, treated_on_left=True, ties=HALF, strength_mode=GRADED
        )
        for s in (1, 2, 3)
    ]
    control = [
        label_outcome(
            choice="left", strength=s, treated_on_left=False, ties=HALF, strength_mode=GRADED
        )
        for s in (1, 2, 3)
    ]
    assert treated == sorted(treated) and treated[-1] == 1.0
    assert [1 - y for y in treated] == pytest.approx(control)
