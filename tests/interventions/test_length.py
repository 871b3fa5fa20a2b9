import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interventions.checks import manipulation_check
from interventions.measures import measure_all
from interventions.transforms import length, transform_get
from interventions.transforms.blocks import protected_blocks
from tests.factories import SAMPLE_FILE, TOLERANCES

PROSE = (
    "Water boils at 100 °C at sea level. At altitude it boils at a lower temperature. "
    "This is because air pressure falls with height.\n\n"
    "Cooking therefore takes longer in the mountains. Pasta needs a few extra minutes."
)

words = st.text(alphabet="abcdefghij ", min_size=1, max_size=40).map(str.strip).filter(bool)
sentence = words.map(lambda w: w[0].upper() + w[1:] + ".")
paragraph = st.lists(sentence, min_size=1, max_size=5).map(" ".join)
code = st.text(alphabet="abc =(){}.;\n", min_size=1, max_size=60).map(
    lambda body: "```python\n" + body.replace("```", "") + "\n```"
)
document = st.lists(st.one_of(paragraph, code), min_size=1, max_size=8).map("\n\n".join)


@given(text=document, seed=st.integers(0, 2**32 - 1), direction=st.sampled_from(length.DIRECTIONS))
@settings(max_examples=200, deadline=None)
def test_code_blocks_survive_and_output_is_deterministic(text, seed, direction):
    once = length.apply(text, rng=np.random.default_rng(seed), direction=direction)
    again = length.apply(text, rng=np.random.default_rng(seed), direction=direction)
    assert once == again
    assert protected_blocks(once) == protected_blocks(text)


def test_shorter_and_longer_move_length_the_right_way():
    rng = np.random.default_rng(3)
    shorter = length.apply(PROSE, rng=rng, direction="shorter", dose=0.3)
    longer = length.apply(PROSE, rng=rng, direction="longer", dose=0.3)
    assert len(shorter.split()) < len(PROSE.split()) < len(longer.split())
    # Every paragraph keeps its opening sentence.
    for lead in ("Water boils at 100 °C at sea level.", "Cooking therefore takes longer"):
        assert lead in shorter and lead in longer


def test_bad_parameters_say_what_is_allowed():
    with pytest.raises(ValueError, match="direction must be one of"):
        length.apply(PROSE, rng=np.random.default_rng(0), direction="sideways")
    with pytest.raises(ValueError, match="dose must be between 0 and 1"):
        length.apply(PROSE, rng=np.random.default_rng(0), dose=2)
    with pytest.raises(ValueError, match="known transforms: .*length"):
        transform_get("nope")


@pytest.mark.parametrize("direction", length.DIRECTIONS)
def test_most_real_answers_pass_the_manipulation_check(direction):
    answers = [
        next(iter(json.loads(line)["responses"].values()))
        for line in SAMPLE_FILE.open(encoding="utf-8")
    ]
    passed = 0
    for i, text in enumerate(answers):
        out = length.apply(text, rng=np.random.default_rng(i), direction=direction, dose=0.3)
        assert protected_blocks(out) == protected_blocks(text)
        result = manipulation_check(
            control=measure_all(text),
            treated=measure_all(out),
            measure="words",
            threshold=0.15,
            direction=1 if direction == "longer" else -1,
            tolerances=TOLERANCES,
        )
        passed += result.passed
    assert passed / len(answers) > 0.5


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


def test_shorter_drops_redundancy_from_single_sentence_items():
    text = (
        "- Use a tripod (it keeps the camera steady) for long exposures.\n"
        "- Choose materials, such as GaAs and InP, with matching lattices.\n"
        "- It is important to note that heat matters."
    )
    out = length.apply(text, rng=np.random.default_rng(0), direction="shorter", dose=0.9)
    assert out.count("\n- ") == text.count("\n- ")
    assert "(it keeps the camera steady)" not in out and ", such as GaAs" not in out
    assert "- Heat matters." in out
    assert len(out.split()) < len(text.split())
