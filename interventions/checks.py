"""The manipulation check: did the target attribute move, and nothing else?

Three layers, in order: the target moved by its threshold; the meaning of every span an
edit touched is unchanged (``meaning_failures``); and every other measure stayed within
its tolerance, including the fluency and content measures every intervention holds
(``HELD``) unless its own tolerances say otherwise.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from interventions.measures import (
    FUNCTION_WORDS,
    Token,
    fenced_blocks,
    measure_pair,
    prose_tokens,
)

# Held by every check unless an intervention's tolerances name them: an edit may not add
# a lower-case sentence start, a capital inside a sentence or a repeated word, nor drop
# or add what the answer says.
# {"up": n}: only an increase beyond n fails.
HELD: dict[str, float | Mapping[str, float]] = {
    "lowercase_starts": {"up": 0},
    "inner_capitals": {"up": 0},
    "repeated_ngrams": {"up": 0},
    "content_lost": 0,
    "content_added": 0,
}
# What an intervention is allowed to change, by its target measure: hedging changes modal
# verbs, a factual error changes a number.
EXEMPT = {"hedges": {"modal"}, "numeric_edits": {"number"}}
_CLASS_NAMES = {
    "negation": "negation",
    "modal": "modal verb",
    "quantifier": "restrictive word",
    "number": "number",
    "code": "code identifier",
    "url": "URL",
    "quote": "quoted text",
}


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    reason: str


def _allowed(tolerance: float | Mapping[str, float], control: float) -> float:
    """A tolerance is absolute (a number) or relative ({"relative": r}: r times the
    control's value, at least 1), for measures like words that scale with the answer."""
    if isinstance(tolerance, Mapping):
        if "up" in tolerance:
            return float(tolerance["up"])
        return float(tolerance["relative"]) * max(abs(control), 1.0)
    return float(tolerance)


def manipulation_check(
    *,
    control: Mapping[str, float],
    treated: Mapping[str, float],
    measure: str,
    threshold: float,
    direction: int,
    tolerances: Mapping[str, float | Mapping[str, float]],
) -> CheckResult:
    """Pass when ``measure`` moved by at least ``threshold`` (relative to the control, in
    the sign of ``direction``) and every measure in ``tolerances`` moved by at most its
    tolerance (absolute, relative to the control when given as {"relative": r}, or an
    increase of at most n when given as {"up": n})."""
    base = max(abs(control[measure]), 1.0)
    moved = direction * (treated[measure] - control[measure]) / base
    if moved < threshold:
        return CheckResult(
            False,
            f"target {measure} moved {moved:+.2f} (relative), needs at least {threshold:+.2f}",
        )
    for name, tolerance in sorted(tolerances.items()):
        if name == measure or name not in control:
            continue
        change = treated[name] - control[name]
        if not (isinstance(tolerance, Mapping) and "up" in tolerance):
            change = abs(change)
        allowed = _allowed(tolerance, control[name])
        if change > allowed:
            return CheckResult(False, f"{name} changed by {change:g}, tolerance is {allowed:g}")
    return CheckResult(True, "")


def _words(tokens: Sequence[Token]) -> str:
    return ", ".join(f"'{t.text}'" for t in tokens[:3]) + (" ..." if len(tokens) > 3 else "")


def _copied(span: Sequence[Token], keys: list[str]) -> int | None:
    """Where the other side has a span of three or more tokens verbatim (a restatement
    added, or a repeated sentence dropped): such a span neither adds nor removes meaning."""
    if len(span) < 3:
        return None
    wanted, n = [t.key for t in span], len(span)
    return next((i for i in range(len(keys) - n + 1) if keys[i : i + n] == wanted), None)


def _sentences(tokens: list[Token]) -> list[list[Token]]:
    groups: list[list[Token]] = []
    for t in tokens:
        if t.initial or not groups:
            groups.append([])
        groups[-1].append(t)
    return groups


def _repeats_removed(
    control: list[Token], treated: list[Token], *, net_only: bool = False
) -> tuple[list[Token], list[Token], list[tuple[list[Token], list[Token]]]]:
    """Both sides' unmasked tokens without the sentences that one side adds or drops as a
    copy of a sentence the other side says (a restatement added, a repeated sentence
    dropped): a copy neither adds nor removes meaning. Sentences are aligned first, so the
    copy left out is the one the edit made, and the token diff never splits it."""
    sides = [
        [(tuple(t.key for t in g if not t.masked), g) for g in _sentences(side)]
        for side in (control, treated)
    ]
    keys = [[k for k, _ in side] for side in sides]
    present = [set(k) for k in keys]
    skipped: list[set[int]] = [set(), set()]
    # With ``net_only``, a side counts as adding or dropping no more copies than it has
    # sentences over the other: when the alignment pairs an edit of a repeated passage
    # with the wrong copy, the edit is still read as an edit.
    unlimited = len(keys[0]) + len(keys[1])
    budget = (
        [max(0, len(keys[0]) - len(keys[1])), max(0, len(keys[1]) - len(keys[0]))]
        if net_only
        else [unlimited, unlimited]
    )
    matcher = SequenceMatcher(None, keys[0], keys[1], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        # In a replaced stretch the sentences pair up as edits; only the surplus on the
        # longer side can be an added or dropped copy.
        surplus = [max(0, (i2 - i1) - (j2 - j1)), max(0, (j2 - j1) - (i2 - i1))]
        for n, (lo, hi) in enumerate(((i1, i2), (j1, j2))):
            for g in range(lo, hi):
                if not (surplus[n] and budget[n]):
                    break
                if len(keys[n][g]) >= 3 and keys[n][g] in present[1 - n]:
                    skipped[n].add(g)
                    surplus[n] -= 1
                    budget[n] -= 1
    kept = [
        [t for g, (_, grp) in enumerate(side) if g not in skipped[n] for t in grp if not t.masked]
        for n, side in enumerate(sides)
    ]
    originals = {key: group for key, group in sides[0]}
    copies = [
        ([t for t in originals[sides[1][g][0]] if not t.masked], [t for t in grp if not t.masked])
        for g in sorted(skipped[1])
        for grp in [sides[1][g][1]]
    ]
    return kept[0], kept[1], copies


def meaning_failures(
    control: list[Token], treated: list[Token], *, exempt: frozenset[str] | set[str] = frozenset()
) -> list[str]:
    """Every change of meaning in the spans where the two sides differ, one reason each:
    a negation, modal verb, quantifier or restrictive word, number, code identifier, URL
    or quoted text removed, added or replaced; a name dropped from, or new to, the answer,
    or lower-cased. ``exempt`` names classes the intervention may change ("modal" for
    hedging, though never a modal scoping over a negation; "number" for a factual error).
    Stock and attribute phrases (masked tokens) are left out.

    Copies are read off an alignment of sentences, and in a passage said twice the
    alignment may pair an edit with the wrong copy. So the pair is rejected only when
    both readings find a change: copies wherever the alignment finds them (whose reasons
    are given), and no more copies on a side than it has sentences over the other. The
    two may word one change differently ("added" against "replaced")."""
    failures = _meaning_failures(control, treated, exempt, net_only=False)
    if failures and not _meaning_failures(control, treated, exempt, net_only=True):
        return []
    return failures


def _meaning_failures(
    control: list[Token], treated: list[Token], exempt: frozenset[str] | set[str], *, net_only: bool
) -> list[str]:
    a, b, copies = _repeats_removed(control, treated, net_only=net_only)
    keys_a, keys_b = [t.key for t in a], [t.key for t in b]
    names_a = {t.text for t in control if t.kind == "word"}
    names_b = {t.text for t in treated if t.kind == "word"}
    lower_a = {t.key for t in control if t.kind == "word" and t.text[:1].islower()}
    failures: list[str] = []

    def fail(reason: str) -> None:
        if reason not in failures:
            failures.append(reason)

    def lowered(olds: Sequence[Token], news: Sequence[Token]) -> None:
        for old, new in zip(olds, news, strict=True):
            common = old.key in lower_a or old.key in FUNCTION_WORDS
            if old.text[:1].isupper() and new.text[:1].islower() and not common:
                fail(f"meaning: name lower-cased ('{old.text}' -> '{new.text}')")

    for original, copy in copies:
        lowered(original, copy)
    matcher = SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            lowered(a[i1:i2], b[j1:j2])
            continue
        removed, added = a[i1:i2], b[j1:j2]
        if (at := _copied(removed, keys_b)) is not None:
            removed = []
        if (at := _copied(added, keys_a)) is not None:
            lowered(a[at : at + len(added)], added)
            added = []
        for cls, label in _CLASS_NAMES.items():
            if cls in exempt and cls != "modal":
                continue
            gone = Counter(t.key for t in removed if cls in t.classes)
            new = Counter(t.key for t in added if cls in t.classes)
            if cls == "modal" and "modal" in exempt:
                # Hedging may drop "might", but "might not" -> "can not" reverses the claim.
                scoped = [
                    t
                    for t in removed
                    if cls in t.classes
                    and t.index + 1 < len(control)
                    and "negation" in control[t.index + 1].classes
                ]
                if scoped:
                    fail(f"meaning: modal verb before a negation changed ({_words(scoped)})")
                continue
            if gone == new:
                continue
            lost = [t for t in removed if cls in t.classes and (gone - new)[t.key]]
            got = [t for t in added if cls in t.classes and (new - gone)[t.key]]
            if lost and got:
                fail(f"meaning: {label} replaced ({_words(lost)} -> {_words(got)})")
            elif lost:
                fail(f"meaning: {label} removed ({_words(lost)})")
            elif got:
                fail(f"meaning: {label} added ({_words(got)})")
        dropped = [t for t in removed if t.name and t.text not in names_b]
        if dropped:
            fail(f"meaning: name removed ({_words(dropped)})")
        introduced = [t for t in added if t.name and t.text not in names_a]
        if introduced:
            fail(f"meaning: name added ({_words(introduced)})")
    return failures


@dataclass(frozen=True)
class PairCheck:
    measures_control: dict[str, int]
    measures_treated: dict[str, int]
    result: CheckResult


def pair_check(
    *,
    control: str,
    treated: str,
    measure: str,
    threshold: float,
    direction: int,
    tolerances: Mapping[str, float | Mapping[str, float]],
) -> PairCheck:
    """Measure both texts and run the manipulation check; an unchanged text fails, and so
    does one whose fenced code differs (rules never touch code; an LLM rewrite might),
    one whose edits changed meaning, and one that moved a held fluency or content
    measure (``HELD``, unless ``tolerances`` names it)."""
    tokens = (prose_tokens(control), prose_tokens(treated))
    measures_control, measures_treated = measure_pair(control, treated, tokens)
    if treated == control:
        result = CheckResult(False, "the transform left the text unchanged")
    elif fenced_blocks(treated) != fenced_blocks(control):
        result = CheckResult(False, "code blocks were altered; they must stay verbatim")
    else:
        result = manipulation_check(
            control=measures_control,
            treated=measures_treated,
            measure=measure,
            threshold=threshold,
            direction=direction,
            tolerances={**HELD, **tolerances},
        )
        # Once the target moved, a change of meaning is the reason to give first.
        if not result.reason.startswith("target "):
            failures = meaning_failures(*tokens, exempt=EXEMPT.get(measure, set()))
            if failures:
                result = CheckResult(False, failures[0])
    return PairCheck(measures_control, measures_treated, result)
