import pytest

from analysis.sentences import RowFigures, row_sentence


def _row(point, low, high, **fields):
    base = dict(
        intervention="length-longer",
        estimand="amce",
        weighting="label",
        subgroup="all",
        point=point,
        ci_low=low,
        ci_high=high,
    )
    return RowFigures(**{**base, **fields})


def test_a_positive_effect_reads_as_points_more_often_with_its_interval():
    assert row_sentence(_row(0.06, 0.02, 0.10)) == (
        "Annotators preferred the longer answer 6 points more often than chance (95% CI 2 to 10)."
    )


def test_a_negative_effect_reads_as_less_often():
    text = row_sentence(_row(-0.124, -0.2, -0.05, intervention="hedging-more"))
    assert text == (
        "Annotators preferred the more hedged answer 12 points less often than chance "
        "(95% CI -20 to -5)."
    )


@pytest.mark.parametrize("low,high", [(-0.01, 0.09), (-0.09, 0.0), (0.0, 0.03)])
def test_an_interval_covering_zero_is_no_clear_difference(low, high):
    text = row_sentence(_row(0.04, low, high))
    assert text.startswith("No clear difference: annotators preferred the longer answer")
    assert "the interval includes no difference" in text
    assert f"95% CI {round(100 * low)} to {round(100 * high)}" in text


def test_without_an_interval_the_note_says_why():
    text = row_sentence(_row(0.2, None, None, note="3 annotators, fewer than the minimum of 10"))
    assert "20 points more often than chance" in text
    assert text.endswith("no interval yet: 3 annotators, fewer than the minimum of 10.")
    assert "CI" not in text


def test_position_bias_speaks_of_the_left_answer_not_the_intervention():
    text = row_sentence(_row(0.03, 0.01, 0.05, estimand="position_bias"))
    assert text == (
        "Annotators picked the answer shown on the left 3 points more often than chance "
        "(95% CI 1 to 5)."
    )


def test_annotator_weighting_and_subgroups_name_who_is_meant():
    text = row_sentence(_row(0.1, 0.05, 0.15, weighting="annotator", subgroup="expertise=novice"))
    assert text.startswith(
        "Among annotators who answered novice to expertise, the average annotator preferred"
    )


def test_an_unknown_intervention_is_named_and_a_zero_point_is_as_often_as_chance():
    text = row_sentence(_row(0.001, -0.05, 0.05, intervention="tone-warm"))
    assert "the treated answer (tone-warm) as often as chance would" in text
