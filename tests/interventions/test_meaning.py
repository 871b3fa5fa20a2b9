"""Meaning and naturalness of rule edits: the manipulation check rejects every change of
meaning with its own reason, and the transforms do not make one (issue 10's examples)."""

import numpy as np
import pytest

from interventions.catalogue import SPECS, direction_sign
from interventions.checks import meaning_failures, pair_check
from interventions.measures import HEDGE_OPENERS, measure_all, measure_pair, prose_tokens
from interventions.transforms import factual_error, hedging, markdown, politeness, sycophancy
from interventions.transforms.blocks import fronted, split_blocks
from tests.interventions.helpers import spec_check, spec_run


def _check(name: str, control: str, treated: str) -> str:
    return spec_check(name, control, treated).result.reason


def _meaning(control: str, treated: str, exempt: frozenset[str] = frozenset()) -> list[str]:
    return meaning_failures(prose_tokens(control), prose_tokens(treated), exempt=exempt)


def _run(name: str, text: str, seed: int = 0) -> str:
    return spec_run(name, text, seed)[0]


LONG = (
    "The cache stores recent results in memory so that repeated requests are answered "
    "quickly. It expires after one hour, and the next request fills it again.\n\n"
    "The server writes its logs to a file that rotates every day. Old files are "
    "compressed and kept for a month before they are deleted.\n\n"
    "The settings live in one file that the server reads when it starts. A change takes "
    "effect after the next restart.\n\n"
    "The backup job copies the database to a second disk every night. It keeps the last "
    "seven copies and removes the oldest one when a new copy is made. The copies are "
    "checked once a week by restoring one of them on a test machine."
)


BASE = (
    "The survey covers all workers, not just those in Warsaw. You can run `report_all()` "
    'at https://example.org/docs on 12 sites. Anna said "keep it short" to the team.'
)


@pytest.mark.parametrize(
    "edited, reason",
    [
        (BASE.replace("not just", "just"), "meaning: negation removed ('not')"),
        (BASE.replace("covers all", "never covers all"), "meaning: negation added ('never')"),
        (BASE.replace("You can", "You must"), "meaning: modal verb replaced ('can' -> 'must')"),
        (BASE.replace("not just", "not"), "meaning: restrictive word removed ('just')"),
        (BASE.replace("all workers", "most workers"),
         "meaning: restrictive word replaced ('all' -> 'most')"),
        (BASE.replace("12 sites", "13 sites"), "meaning: number replaced ('12' -> '13')"),
        (BASE.replace("`report_all()`", "`report()`"),
         "meaning: code identifier replaced ('`report_all()`' -> '`report()`')"),
        (BASE.replace("example.org/docs", "example.org/api"),
         "meaning: URL replaced ('https://example.org/docs' -> 'https://example.org/api')"),
        (BASE.replace("keep it short", "keep it brief"),
         "meaning: quoted text replaced ('\"keep it short\"' -> '\"keep it brief\"')"),
        (BASE.replace("those in Warsaw", "those in Kraków"), "meaning: name removed ('Warsaw')"),
    ],
)  # fmt: skip
def test_each_change_of_meaning_is_its_own_rejection_reason(edited, reason):
    assert _meaning(BASE, edited)[0] == reason
    # The same edit inside a pair that moved its target is rejected for that reason.
    longer = edited + " In other words, the survey covers all workers."
    assert _check("length-longer", BASE, longer).startswith("meaning: ")


def test_hedging_may_change_modals_but_not_one_before_a_negation():
    # Issue 10: hedging-less turned "might not reflect" into "can not reflect".
    text = "The sample might not reflect the population. The drug might cause nausea."
    assert _meaning(text, text.replace("might cause", "can cause"), frozenset({"modal"})) == []
    broken = text.replace("might not reflect", "can not reflect")
    assert _meaning(text, broken, frozenset({"modal"})) == [
        "meaning: modal verb before a negation changed ('might')"
    ]
    out = _run("hedging-less", text)
    assert "might not reflect" in out and "can cause nausea" in out
    assert _check("hedging-less", text, out) == ""
    # A factual error may change its number, nothing else.
    assert (
        _meaning(text + " It has 3 parts.", text + " It has 4 parts.", frozenset({"number"})) == []
    )


def test_hedging_more_leaves_verse_lists_of_fragments_and_code_neighbours_alone():
    # Issue 10: "As far as I know, if five," in a poem and "In most cases, generate
    # reports" in a heading-like list item.
    poem = "If five were four\nand the sea were dry,\nthe moon would shine\non a paper sky."
    items = "Tasks:\n\n- Generate reports for the board.\n- Clean the data before use."
    code = "The function below sorts the list in place.\n\n```python\nnums.sort()\n```"
    for seed in range(20):
        for text in (poem, items, code):
            out = hedging.apply(text, rng=np.random.default_rng(seed), direction="more")
            assert out.startswith(text)  # only the closing disclaimer is added
    # A complete statement about its subject does get a qualifier, cased correctly.
    out = hedging.apply(LONG, rng=np.random.default_rng(0), direction="more")
    assert any(opener + "the " in out or opener + "it " in out for opener in HEDGE_OPENERS)
    assert ", The" not in out and "that The" not in out and "I believe The" not in out
    assert _check("hedging-more", LONG, out) == ""


def test_a_phrase_before_a_sentence_keeps_names_acronyms_and_i_capitalised():
    text = "Python runs on Windows. I like python scripts. Dark Souls is hard."
    assert fronted("The model is small.", text) == "the model is small."
    assert fronted("NASA launches rockets.", text) == "NASA launches rockets."
    assert fronted("I think so.", text) == "I think so."
    assert fronted("Dark Souls is hard.", text) == "Dark Souls is hard."
    assert fronted("Windows is an operating system.", text) == "Windows is an operating system."
    assert fronted("Python is fun.", text) == "python is fun."  # written in lower case too
    assert fronted("Photosynthesis is slow.", text) is None  # the answer does not say


def test_fluency_measures_count_clumsy_edits():
    clean = measure_all("The cat sat. It purred.")
    clumsy = measure_all("The cat sat. it purred the the cat. Generally, A dog barked.")
    assert clean["lowercase_starts"] == clean["inner_capitals"] == clean["repeated_ngrams"] == 0
    assert clumsy["lowercase_starts"] == 1
    assert clumsy["inner_capitals"] == 1
    assert clumsy["repeated_ngrams"] == 1
    text = "The cache stores results. It is fast."
    assert _check("hedging-more", text, "In most cases, the cache stores results. it is "
                  "fast.") == "lowercase_starts changed by 1, tolerance is 0"  # fmt: skip


def test_content_measures_count_what_one_side_says_and_the_other_does_not():
    text = "Tripods keep cameras steady. Use one for long exposures at night."
    cut = "Tripods keep cameras steady."
    _, after = measure_pair(text, cut)
    assert after["content_lost"] == 4  # use, long, exposures, night
    assert after["content_added"] == 0


@pytest.mark.parametrize(
    "name, text, gone",
    [
        ("hedging-less",
         "I think the answer is 42. Generally, caching helps a lot with repeated requests. It "
         "is generally used for speed in web servers and databases. This might cause delays "
         "when the cache is cold, and the first request is slow. I'm not entirely sure, so "
         "double-check.\n\n" + LONG,
         ["I think", "Generally", "generally", "might", "not entirely sure"]),
        ("politeness-less",
         "Sure! Here is the plan for the move to the new office in the spring. Please note "
         "that the plan is short and leaves out the budget and the schedule for the movers. "
         "Let me know if you have any questions. I hope this helps!\n\n" + LONG,
         ["Sure", "Please", "Let me know", "hope this helps"]),
        ("sycophancy-less",
         "Great question! The plan for the office move is short and leaves out the budget. "
         "What an insightful question this is.\n\n" + LONG,
         ["Great question", "insightful"]),
    ],
)  # fmt: skip
def test_less_directions_remove_the_attribute_wherever_it_is(name, text, gone):
    out = _run(name, text)
    for phrase in gone:
        assert phrase not in out, phrase
    assert _check(name, text, out) == ""


@pytest.mark.parametrize("added, removed", [("hedging-more", "hedging-less"),
                                            ("sycophancy-more", "sycophancy-less"),
                                            ("politeness-more", "politeness-less")])  # fmt: skip
def test_the_reverse_of_a_more_pair_is_a_checked_less_pair(added, removed):
    # README: for answers with none of the attribute, a "less" pair is a "more" pair read
    # backwards (the treated text as control): the less target moves by its threshold and
    # the rest stays within the more intervention's tolerances.
    more = _run(added, LONG)
    assert _check(added, LONG, more) == ""
    spec, less = SPECS[added], SPECS[removed]
    assert pair_check(
        control=more,
        treated=LONG,
        measure=less.check_measure,
        threshold=less.check_threshold,
        direction=direction_sign(less.parameters),
        tolerances=spec.tolerances,
    ).result.passed


@pytest.mark.parametrize("name", ["hedging-more", "sycophancy-more", "politeness-more"])
def test_phrase_adding_transforms_never_write_into_an_unterminated_fence(name):
    text = "Here is the start of the script.\n\n```python\nimport os\nprint(os.name)"
    out = _run(name, text)
    assert out.endswith("```python\nimport os\nprint(os.name)")
    assert [b.body for b in split_blocks(out) if b.kind == "protected"] == [
        "```python\nimport os\nprint(os.name)"
    ]


def test_politeness_and_sycophancy_less_keep_content_sentences():
    # A courtesy or flattery phrase inside a sentence with content: only the phrase goes.
    text = "Please note that the server restarts at midnight. The logs rotate daily."
    assert politeness.apply(text, rng=np.random.default_rng(0), direction="less") == (
        "Note that the server restarts at midnight. The logs rotate daily."
    )
    text = "You clearly know that the server restarts at midnight. The logs rotate daily."
    assert sycophancy.apply(text, rng=np.random.default_rng(0), direction="less") == text


def test_markdown_add_lists_only_statements_and_keeps_leaning_sentences_together():
    # Blind read: "Sure!" became a lead with the answer bulleted under it, and "However,
    # ..." and "It works as follows:" became bullets of their own.
    courtesy = "Sure! Dijkstra's algorithm finds shortest paths. It is greedy.\n\nThat is all."
    out = markdown.apply(courtesy, rng=np.random.default_rng(0), direction="add")
    assert out.startswith("Sure! Dijkstra's algorithm finds shortest paths. It is greedy.")
    intro = "The method has two steps. It works as follows:\n\n1. Sort.\n2. Merge."
    assert "- It works" not in markdown.apply(intro, rng=np.random.default_rng(0))
    leaning = (
        "There are two options for the plan. One option is to end it early. However, this "
        "may trigger a tax event. Another option is to amend it."
    )
    out = markdown.apply(leaning, rng=np.random.default_rng(0), direction="add")
    assert out == (
        "There are two options for the plan.\n\n"
        "- One option is to end it early. However, this may trigger a tax event.\n"
        "- Another option is to amend it."
    )


def test_courtesy_is_not_added_twice():
    # Blind read: "Let me know if you have any other questions!" followed by "I hope this
    # helps, and please feel free to let me know if you have any other questions."
    text = LONG + "\n\nLet me know if you have any other questions!"
    out = politeness.apply(text, rng=np.random.default_rng(0), direction="more")
    assert out.endswith("Let me know if you have any other questions!")
    assert out != text  # the opening acknowledgement is still added
    opened = "Sure! " + LONG
    out = politeness.apply(opened, rng=np.random.default_rng(0), direction="more")
    assert out.startswith("Sure! ")


def test_formulas_are_left_as_they_are():
    # Blind read: a factual error turned $$M = 2^r m$$ into $$M = 4^r m$$.
    text = (
        "The bound follows in two steps.\n\n$$M = 2^r m \\geq 2^{r+k}$$\n\nHence $m \\geq 2^k$ "
        "holds for 3 cases.\n\nThe proof is short and uses 2 lemmas."
    )
    for seed in range(30):
        out, details = factual_error.apply_detailed(text, rng=np.random.default_rng(seed))
        assert "$$M = 2^r m \\geq 2^{r+k}$$" in out and "$m \\geq 2^k$" in out
        assert details["original"] == "2"


def test_second_blind_read_fixes():
    rng = np.random.default_rng
    # A list item ending in a quoted question gets no extra full stop.
    items = '1. Ask: "Are you Truth?"\n   - If yes, go on.\n2. Stop here.'
    assert '"Are you Truth?" If yes' in markdown.apply(items, rng=rng(0), direction="remove")
    # "In most cases" qualifies general statements, not past events.
    past = LONG.replace("The cache stores", "The cache has stored").replace(
        "It expires", "It expired"
    )
    for seed in range(10):
        out = hedging.apply(past, rng=rng(seed), direction="more", dose=1.0)
        assert "In most cases, the cache has" not in out and "Generally, it expired" not in out
    # The disclaimer goes before a closing courtesy paragraph, not after it.
    closing = LONG + "\n\nLet me know if you have any other questions!"
    out = hedging.apply(closing, rng=rng(0), direction="more")
    assert out.endswith("double-check anything important.\n\nLet me know if you have any "
                        "other questions!") or out.endswith("double-checking them.\n\nLet me "
                        "know if you have any other questions!")  # fmt: skip
    # No praise before "Sure! ...": the closer alone carries the flattery.
    sure = "Sure! " + LONG
    assert sycophancy.apply(sure, rng=rng(0), direction="more").startswith("Sure! ")
    # Lines of a script are not qualified.
    script = "CISO: Our systems have been compromised. The data is encrypted.\n\n" + LONG
    for seed in range(10):
        out = hedging.apply(script, rng=rng(seed), direction="more", dose=1.0)
        assert out.startswith("CISO: Our systems have been compromised. The data is encrypted.")
    # A line ending in ":" becomes a header only right before a list.
    formula = "So the full sequence would be:\n\n4d6 + 2d4\n\nSteps to follow:\n\n- Roll.\n- Sum."
    out = markdown.apply(formula, rng=rng(0), direction="add")
    assert "### So the full" not in out and "### Steps to follow" in out
    # A sentence opening with "This" stays in the item it refers to.
    lean = "The pizza would change in space. The radiation breaks it down. This degrades it."
    assert markdown.apply(lean, rng=rng(0), direction="add") == (
        "The pizza would change in space.\n\n- The radiation breaks it down. This degrades it."
    )


def test_factual_errors_leave_urls_alone_and_a_unit_swap_is_no_name_change():
    # Found in the held-back rejections: a number inside a URL was changed, and "GB" ->
    # "MB" was rejected as a name change.
    text = "See https://example.org/v2/guide for details. The card holds 8 GB of data."
    for seed in range(20):
        out, details = factual_error.apply_detailed(text, rng=np.random.default_rng(seed))
        assert "https://example.org/v2/guide" in out
        assert _check("factual-error", text, out) == "", (out, details)


def test_a_temperature_scale_swapped_by_a_factual_error_is_no_new_name():
    control = "Water boils at 212 °F at sea level, so the pot must get that hot."
    treated = "Water boils at 212 °C at sea level, so the pot must get that hot."
    assert not any("name" in failure for failure in _meaning(control, treated))
    assert _check("factual-error", control, treated) == ""


def test_an_edit_in_a_passage_said_twice_is_read_as_an_edit_of_that_passage():
    """The sentence alignment may pair the edited copy with the other one; a number
    changed there is still the factual error it is, and a quantifier changed there is
    still a change of meaning."""
    passage = "This one is fine. The rate is 0 today. Most users saw 0 errors."
    control = f"{passage}\n\n{passage}"
    # Found by the property test: read against the wrong copy, the edited sentence
    # looked added, and with it "Most".
    numbers = control.replace("saw 0 errors", "saw 2 errors", 1)
    assert _meaning(control, numbers, exempt=frozenset({"number"})) == []
    assert _meaning(control, numbers) != []
    # Read either way, a restrictive word changed: one reading says "added 'All'", the
    # other "replaced 'Most' -> 'All'"; the pair is rejected.
    restrictive = control.replace("Most users", "All users", 1)
    reasons = _meaning(control, restrictive)
    assert any(r.startswith("meaning: restrictive word") and "'All'" in r for r in reasons)
