"""Length pairs change how much is said, never what is said."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interventions.checks import manipulation_check, pair_check
from interventions.measures import RESTATEMENT_MARKERS, measure_all, measure_pair
from interventions.transforms import length, transform_get
from interventions.transforms.blocks import protected_blocks
from tests.factories import LENGTH_FILE, SAMPLE_FILE, TOLERANCES

PROSE = (
    "Water boils at 100 °C at sea level. At altitude it boils at a lower temperature. "
    "This is because air pressure falls with height.\n\n"
    "Cooking therefore takes longer in the mountains. Pasta needs a few extra minutes."
)
# A paragraph whose last sentence restates the first: the only redundancy in it.
REDUNDANT = (
    "The compost heap turns kitchen scraps into soil. Microbes break down the plant matter "
    "over several months. Worms help by mixing the layers.\n\n"
    "In short, the compost heap turns kitchen scraps into soil with microbes and worms."
)

words = st.text(alphabet="abcdefghij ", min_size=1, max_size=40).map(str.strip).filter(bool)
sentence = words.map(lambda w: w[0].upper() + w[1:] + ".")
paragraph = st.lists(sentence, min_size=1, max_size=5).map(" ".join)
code = st.text(alphabet="abc =(){}.;\n", min_size=1, max_size=60).map(
    lambda body: "```python\n" + body.replace("```", "") + "\n```"
)
document = st.lists(st.one_of(paragraph, code), min_size=1, max_size=8).map("\n\n".join)


def _check(text: str, out: str, direction: str, threshold: float = 0.15):
    return pair_check(
        control=text,
        treated=out,
        measure="words",
        threshold=threshold,
        direction=1 if direction == "longer" else -1,
        tolerances=TOLERANCES,
    )


@given(text=document, seed=st.integers(0, 2**32 - 1), direction=st.sampled_from(length.DIRECTIONS))
@settings(max_examples=200, deadline=None)
def test_code_blocks_survive_and_output_is_deterministic(text, seed, direction):
    once = length.apply(text, rng=np.random.default_rng(seed), direction=direction)
    again = length.apply(text, rng=np.random.default_rng(seed), direction=direction)
    assert once == again
    assert protected_blocks(once) == protected_blocks(text)


def test_shorter_drops_the_restatement_and_longer_adds_one():
    rng = np.random.default_rng(3)
    shorter = length.apply(REDUNDANT, rng=rng, direction="shorter", dose=0.3)
    assert shorter == REDUNDANT.split("\n\n")[0]
    assert _check(REDUNDANT, shorter, "shorter").result.passed
    text = (
        "Cooking takes longer in the mountains at high altitude. Pasta needs a few extra "
        "minutes there. A pressure cooker speeds up cooking."
    )
    longer = length.apply(text, rng=rng, direction="longer", dose=0.1)
    # The paragraph's opening sentence, restated at its end and cased as a continuation
    # ("cooking" is written in lower case elsewhere, so it is no name).
    assert longer.startswith(text + " ")
    tail = longer[len(text) + 1 :]
    assert tail.endswith(", cooking takes longer in the mountains at high altitude.")
    assert tail.split(",")[0] + ", " in RESTATEMENT_MARKERS
    assert _check(text, longer, "longer").result.passed
    # Where the answer does not show whether the first word is a name, nothing is added.
    unsure = text.replace("speeds up cooking", "helps")
    assert length.apply(unsure, rng=rng, direction="longer", dose=0.1) == unsure


def test_shorter_keeps_content_when_there_is_no_redundancy():
    # Examples, caveats and asides are content: nothing here may go.
    text = (
        "Use a tripod for long exposures (it keeps the camera steady). Choose a low ISO, "
        "such as 100, to reduce noise. Never point the lens at the sun."
    )
    out = length.apply(text, rng=np.random.default_rng(0), direction="shorter", dose=0.3)
    assert out == text
    assert _check(text, out, "shorter").result.reason == "the transform left the text unchanged"


def test_shorter_never_drops_a_restrictive_word():
    # Issue 10: "not just those in Warsaw" became "not those in Warsaw".
    text = (
        "The survey is referring to all workers, not just those in Warsaw. It was "
        "basically run in 2021 in order to compare regions."
    )
    out = length.apply(text, rng=np.random.default_rng(0), direction="shorter", dose=0.3)
    assert "not just those in Warsaw" in out
    assert "It was run in 2021 to compare regions." in out  # filler and wordiness go
    broken = text.replace("not just those", "not those")
    reason = _check(text, broken, "shorter", threshold=0.0).result.reason
    assert reason == "meaning: restrictive word removed ('just')"


def test_longer_restates_neither_labels_nor_list_items_nor_headings():
    # Issue 10: "Put simply, dark Souls series: Known for its punishing difficulty..."
    text = (
        "## Dark Souls\n\n"
        "Dark Souls series: Known for its punishing difficulty and deep lore. Players die "
        "often and learn from it.\n\n"
        "- The combat rewards patience and careful timing in every fight.\n"
        "- The levels loop back on themselves in clever ways."
    )
    out = length.apply(text, rng=np.random.default_rng(0), direction="longer", dose=0.3)
    assert out == text
    bad = text.replace(
        "learn from it.",
        "learn from it. Put simply, dark Souls series: Known for its "
        "punishing difficulty and deep lore.",
    )
    assert _check(text, bad, "longer", 0.0).result.reason == (
        "meaning: name lower-cased ('Dark' -> 'dark')"
    )


def test_longer_lowercases_only_common_words_and_keeps_names():
    text = (
        "A multiple linear regression model predicts one outcome from several inputs. "
        "Each input gets its own weight.\n\n"
        "Python is the usual tool for this work. Many people fit it with Python and a "
        "library."
    )
    out = length.apply(text, rng=np.random.default_rng(1), direction="longer", dose=0.5)
    assert ", a multiple linear regression model predicts" in out
    assert ", Python is the usual tool for this work." in out
    # Issue 10: "To restate the point, A multiple linear regression model..." is caught.
    bad = text.replace(
        "own weight.",
        "own weight. In other words, A multiple linear regression model "
        "predicts one outcome from several inputs.",
    )
    assert (
        _check(text, bad, "longer", 0.0).result.reason
        == "inner_capitals changed by 1, tolerance is 0"
    )


def test_length_pairs_pass_on_the_redundant_fixture():
    rows = [json.loads(line) for line in LENGTH_FILE.open(encoding="utf-8")]
    for direction in length.DIRECTIONS:
        passed = 0
        for i, row in enumerate(rows):
            for text in row["responses"].values():
                out = length.apply(text, rng=np.random.default_rng(i), direction=direction)
                passed += _check(text, out, direction, threshold=0.1).result.passed
        assert passed >= 0.7 * 2 * len(rows), direction


@pytest.mark.parametrize("direction", length.DIRECTIONS)
def test_on_real_answers_every_edit_keeps_meaning_and_content(direction):
    # Real answers have little redundancy, so few reach the threshold; whatever the
    # transform does to them must still keep every claim.
    answers = [
        text
        for line in SAMPLE_FILE.open(encoding="utf-8")
        for text in json.loads(line)["responses"].values()
    ][:200]
    changed = 0
    for i, text in enumerate(answers):
        out = length.apply(text, rng=np.random.default_rng(i), direction=direction, dose=0.3)
        assert protected_blocks(out) == protected_blocks(text)
        if out == text:
            continue
        changed += 1
        reason = _check(text, out, direction, threshold=0.0).result.reason
        assert not reason.startswith("meaning:"), (reason, i)
        before, after = measure_pair(text, out)
        assert after["content_lost"] == 0 and after["content_added"] == 0, i
        assert after["numbers"] == before["numbers"]
    assert changed >= 20


def test_bad_parameters_say_what_is_allowed():
    with pytest.raises(ValueError, match="direction must be one of"):
        length.apply(PROSE, rng=np.random.default_rng(0), direction="sideways")
    with pytest.raises(ValueError, match="dose must be between 0 and 1"):
        length.apply(PROSE, rng=np.random.default_rng(0), dose=2)
    with pytest.raises(ValueError, match="known transforms: .*length"):
        transform_get("nope")


def test_check_rejects_untargeted_change_and_too_small_moves():
    control = {"words": 100, "bold": 0}
    too_small = manipulation_check(
        control=control,
        treated={"words": 105, "bold": 0},
        measure="words",
        threshold=0.2,
        direction=1,
        tolerances={"bold": 0},
    )
    assert not too_small.passed and "target words moved +0.05" in too_small.reason
    wrong_way = manipulation_check(
        control=control,
        treated={"words": 150, "bold": 0},
        measure="words",
        threshold=0.2,
        direction=-1,
        tolerances={},
    )
    assert not wrong_way.passed
    leaked = manipulation_check(
        control=control,
        treated={"words": 150, "bold": 2},
        measure="words",
        threshold=0.2,
        direction=1,
        tolerances={"bold": 0},
    )
    assert not leaked.passed and leaked.reason == "bold changed by 2, tolerance is 0"
    assert manipulation_check(
        control=control,
        treated={"words": 150, "bold": 0},
        measure="words",
        threshold=0.2,
        direction=1,
        tolerances={"bold": 0},
    ).passed
    # {"up": n} holds only increases (a fluency measure may improve).
    fewer = manipulation_check(
        control={"words": 100, "lowercase_starts": 2},
        treated={"words": 150, "lowercase_starts": 0},
        measure="words",
        threshold=0.2,
        direction=1,
        tolerances={"lowercase_starts": {"up": 0}},
    )
    assert fewer.passed


def test_measures_ignore_markdown_inside_code():
    text = "## Title\n\n- **one**\n- two\n\n```python\n# not a header\n- not a list\nf(**kw)\n```"
    measures = measure_all(text)
    assert {k: measures[k] for k in ("headers", "list_items", "bold", "code_blocks")} == {
        "headers": 1,
        "list_items": 2,
        "bold": 1,
        "code_blocks": 1,
    }
    assert measures["markdown"] == 4
    # Markup is not words ('##', '-', '**' and line markers, even inside code).
    counted = "Title one two ```python not a header not a list f(**kw) ```"
    assert measures["words"] == len(counted.split()) - 1  # the closing fence has no letters
