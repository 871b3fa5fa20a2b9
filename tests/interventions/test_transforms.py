"""Every built-in transform: deterministic per seed, code and tables intact, and verified
by its manipulation check on real answers."""

import json
import os
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from interventions.catalogue import CATALOGUE, SPECS
from interventions.checks import EXEMPT, meaning_failures
from interventions.measures import (
    fenced_blocks,
    measure_all,
    measure_pair,
    numeric_values,
    prose_tokens,
)
from interventions.transforms import TRANSFORMS, factual_error, markdown
from interventions.transforms.blocks import split_blocks
from tests.factories import SAMPLE_FILE
from tests.interventions.helpers import spec_check, spec_run

words = st.text(alphabet="abcdefghij ", min_size=1, max_size=40).map(str.strip).filter(bool)
number = st.integers(0, 3000).map(str)
# Words whose loss or change alters a claim: every transform must leave them as they are.
protected_word = st.sampled_from(
    ["not", "never", "no", "only", "just", "all", "every", "some", "might", "can", "must",
     "should", "Warsaw", "Anna", "https://example.org/a", '"quoted words"']
)  # fmt: skip
start = st.sampled_from(["The", "This", "It", "Most", "A", "Python", "Generate", "If"])
sentence = st.tuples(start, words, st.one_of(st.just(""), number, protected_word), words).map(
    lambda t: " ".join(x for x in t if x) + "."
)
paragraph = st.lists(sentence, min_size=1, max_size=4).map(" ".join)
items = st.lists(sentence, min_size=1, max_size=4).map(lambda s: "\n".join("- " + x for x in s))
code = st.text(alphabet="abc =(){}.;#-*12\n", min_size=1, max_size=60).map(
    lambda body: "```python\n" + body.replace("```", "") + "\n```"
)
open_code = code.map(lambda block: block.rsplit("\n", 1)[0])  # a fence never closed
table = st.just("| a | b |\n|---|---|\n| 1 | 2 km |")
quote = sentence.map(lambda s: "> " + s)
verse = st.lists(words, min_size=2, max_size=4).map(lambda lines: "\n".join(lines))
document = st.tuples(
    st.lists(st.one_of(paragraph, items, code, table, quote, verse), min_size=1, max_size=6),
    st.one_of(st.just([]), open_code.map(lambda c: [c])),
).map(lambda t: "\n\n".join(t[0] + t[1]))
SPEC_NAMES = [spec.name for spec in CATALOGUE]


def _verbatim(text: str) -> list[str]:
    """Code, tables, quotes and verse: what every transform must keep exactly (headers
    may legitimately become prose under markdown-remove)."""
    return [
        b.body
        for b in split_blocks(text)
        if b.kind == "verse"
        or (b.kind == "protected" and b.body.lstrip()[:1] in ("`", "~", "|", ">"))
    ]


def _protected_words(text: str, exempt: set[str]) -> Counter:
    """Unmasked tokens of the protected classes, by class and word (a name as written;
    other words in lower case, as a phrase put before a sentence lower-cases its start)."""
    return Counter(
        (cls, t.text if cls == "name" else t.key)
        for t in prose_tokens(text)
        if not t.masked
        for cls in t.classes
        if cls not in exempt
    )


_run = spec_run


def _check(name: str, control: str, treated: str):
    return spec_check(name, control, treated)


@given(text=document, seed=st.integers(0, 2**32 - 1), name=st.sampled_from(SPEC_NAMES))
@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 400)), deadline=None)
# Found in CI: a factual error in one of two identical paragraphs, which the sentence
# alignment had paired with the other paragraph's copy ("restrictive word added").
@example(
    text="This a a. The a 0 a. Most a 0 a.\n\nThis a a. The a 0 a. Most a 0 a.",
    seed=1,
    name="factual-error",
)
def test_every_transform_keeps_code_tables_quotes_verse_and_protected_words(text, seed, name):
    once = _run(name, text, seed)
    assert _run(name, text, seed) == once
    out = once[0]
    assert _verbatim(out) == _verbatim(text)
    assert fenced_blocks(out) == fenced_blocks(text)
    spec = SPECS[name]
    exempt = set(EXEMPT.get(spec.check_measure, set()))
    before, after = _protected_words(text, exempt), _protected_words(out, exempt)
    if name.startswith("length-"):
        # A restatement repeats a sentence, a dropped one was said elsewhere: nothing new,
        # nothing lost; and a negation, modal or quantifier is never dropped at all.
        assert set(after) == set(before)
        if name == "length-shorter":
            claims = ("negation", "modal", "quantifier")
            assert +Counter({k: v for k, v in after.items() if k[0] in claims}) == +Counter(
                {k: v for k, v in before.items() if k[0] in claims}
            )
    else:
        assert after == before
    assert not [r for r in meaning_failures(prose_tokens(text), prose_tokens(out),
                                            exempt=exempt)]  # fmt: skip
    if name == "hedging-less":
        # Modal verbs may go, but never one scoping over a negation.
        assert Counter(re.findall(r"\b(?:might|may|could) not\b", out)) == Counter(
            re.findall(r"\b(?:might|may|could) not\b", text)
        )


def _answers() -> list[str]:
    rows = [json.loads(line) for line in SAMPLE_FILE.open(encoding="utf-8")]
    return [r["responses"].get("gpt-4") or next(iter(r["responses"].values())) for r in rows]


def _pass_rate(name: str, texts: list[str]) -> tuple[float, int]:
    passed = changed = 0
    for i, text in enumerate(texts):
        out, _ = _run(name, text, i)
        changed += out != text
        passed += _check(name, text, out).result.passed
    return passed / len(texts), changed


# Additive directions apply to every answer; on the shipped sample's gpt-4 answers (the
# tuning half) they pass at least this often. The figures on the held-back half are in the
# README, printed by tests/benchmarks/bench_transforms.py.
ADDITIVE = {
    "markdown-add": 0.5,
    "hedging-more": 0.75,
    "sycophancy-more": 0.8,
    "politeness-more": 0.8,
}


@pytest.mark.parametrize("name", sorted(ADDITIVE))
def test_additive_transforms_pass_on_most_real_answers(name):
    rate, _ = _pass_rate(name, _answers())
    assert rate >= ADDITIVE[name]


@pytest.mark.parametrize(
    "added, removed",
    [
        ("markdown-add", "markdown-remove"),
        ("hedging-more", "hedging-less"),
        ("sycophancy-more", "sycophancy-less"),
        ("politeness-more", "politeness-less"),
    ],
)
def test_removal_undoes_addition_and_passes_its_check(added, removed):
    # Removal only applies where the attribute is present: run it on added versions.
    texts = _answers()[:120]
    treated = [out for i, text in enumerate(texts) if (out := _run(added, text, i)[0]) != text]
    assert len(treated) >= 0.6 * len(texts)
    rate, changed = _pass_rate(removed, treated)
    assert changed == len(treated)
    assert rate >= 0.6


def test_factual_error_changes_exactly_one_value_and_records_it():
    texts = [t for t in _answers() if numeric_values(t)]
    recorded = 0
    for i, text in enumerate(texts[:150]):
        out, details = _run("factual-error", text, i)
        if out == text:
            assert details == {}
            continue
        recorded += 1
        _, treated = measure_pair(text, out)
        assert treated["numeric_edits"] == 1
        assert details["erroneous_side"] == "treated"
        assert details["kind"] in ("number", "date", "unit")
        assert details["original"] != details["replacement"]
        at = details["offset"]
        assert out[at : at + len(details["replacement"])] == details["replacement"]
        assert text[at : at + len(details["original"])] == details["original"]
        assert measure_all(out)["words"] == measure_all(text)["words"]
    assert recorded >= 0.8 * min(len(texts), 150)


@pytest.mark.parametrize(
    "text, kind, replaced",
    [
        ("The Eiffel Tower opened in 1889.", "date", "1889"),
        ("Paris is about 450 km from London.", "unit", "km"),
        ("A marathon is 42.195 kilometres long, 26 miles.", "number", None),
    ],
)
def test_factual_error_kinds(text, kind, replaced):
    out, details = factual_error.apply_detailed(text, rng=np.random.default_rng(1), kind=kind)
    assert details["kind"] == kind and out != text
    if replaced:
        assert details["original"] == replaced and replaced not in out


def test_markdown_round_trip_keeps_every_word():
    text = (
        "Photosynthesis turns light into sugar. Chlorophyll absorbs red and blue light. "
        "Oxygen is released.\n\nSteps:\n\n1. Light reactions: water is split.\n"
        "2. Calvin cycle: carbon is fixed."
    )
    rng = np.random.default_rng(0)
    marked = markdown.apply(text, rng=rng, direction="add")
    assert measure_all(marked)["markdown"] > measure_all(text)["markdown"]
    assert "**Light reactions**" in marked and "- Chlorophyll absorbs" in marked
    plain = markdown.apply(marked, rng=rng, direction="remove")
    assert measure_all(plain)["markdown"] == 0
    assert measure_all(plain)["words"] == measure_all(text)["words"]


def test_phrase_lexicons_do_not_overlap():
    # A transform adding one attribute's phrases must not move another's measure.
    for name in ("sycophancy-more", "politeness-more", "hedging-more"):
        spec = SPECS[name]
        text = "Water boils at 100 degrees. It freezes at 0 degrees."
        out, _ = _run(name, text, 0)
        before, after = measure_all(text), measure_all(out)
        for other in {"hedges", "flattery", "politeness"} - {spec.check_measure}:
            assert after[other] == before[other], (name, other)
        assert after[spec.check_measure] > before[spec.check_measure]


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_unknown_direction_names_the_allowed_ones(name):
    with pytest.raises(ValueError, match="direction must be one of"):
        TRANSFORMS[name].apply("Some text. More text.", rng=np.random.default_rng(0), direction="x")
