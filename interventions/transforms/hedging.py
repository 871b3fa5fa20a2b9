"""Hedging: the same answer in confident or hedged phrasing.

``more`` opens a ``dose`` share of the eligible sentences with an uncertainty qualifier
("In most cases, ...") and closes with a disclaimer. A sentence is eligible when it is a
complete statement opening with a determiner or pronoun ("The", "This", "It", "Most"),
so a qualifier never lands before a name, an imperative, a label or a fragment, and not
in verse, a heading, a table or next to code. ``less`` removes qualifiers wherever they
are: hedged openers ("I think", "Generally,"), hedging adverbs ("is generally used"),
"might cause" -> "can cause", "seems to be" -> "is", and disclaimer sentences that say
nothing else. A modal verb before a negation ("might not") is never touched: "can not"
would reverse the claim. Facts, numbers and structure stay as they are.
"""

import re

import numpy as np

from interventions.measures import (
    FLATTERY,
    HEDGE_DISCLAIMERS,
    HEDGE_OPENERS,
    POLITENESS,
    SUBJECT_STARTS,
)
from interventions.transforms.blocks import (
    editable,
    fronted,
    full_sentence,
    join_blocks,
    paragraph_add,
    rejoined,
    sentences_drop,
    sentences_map,
    split_blocks,
    split_sentences,
    upper_first,
)

NAME = "hedging"
VERSION = "2"
DIRECTIONS = ("more", "less")
_HEDGED_OPENER = re.compile(
    r"^(?:In most cases|Generally|Generally speaking|Typically|Usually|As far as I know|"
    r"To my knowledge|In my opinion|Perhaps|Probably|Possibly|Arguably|Most likely),\s+|"
    r"^(?:I think(?: that)?|I believe(?: that)?|It seems(?: that| like)?|It appears that|"
    r"It is possible that|It's possible that|It is likely that|It's likely that|Perhaps)\s+"
)
# Verbs after which "might"/"may" say only that something can happen.
_EVENT_VERBS = (
    "cause|help|lead|result|affect|vary|improve|increase|reduce|decrease|occur|require|differ|"
    "change|depend|contribute|produce|create|prevent|trigger|worsen|slow|speed|benefit|"
    "include|involve|offer|provide|allow|make|take|cost"
)
_MODALS = (
    (re.compile(r"\b(is|are) (?:very |quite )?likely to\b"), "will"),
    (re.compile(rf"(?<![Yy]ou )(?<!\bI )(?<![Ww]e )\b(?:might|may)"
                rf"(?= (?:also )?(?:{_EVENT_VERBS})\b)"), "can"),
    (re.compile(r"\bcould potentially\b"), "can"),
    (re.compile(r"\b(?<=[Yy]ou )(?:might|may) want to\b"), "should"),
    (re.compile(r"\b(?<=[Yy]ou )(?:might|may) need to\b"), "will need to"),
    (re.compile(r"\b(would|will) (?:likely|probably) "), r"\1 "),
    (re.compile(r"(?<=, )(?:I think|I believe) (?:that )?(?=[a-z])"), ""),
    (re.compile(r", (?:perhaps|probably|possibly|arguably|generally|typically),(?= )"), ""),
    (re.compile(r"(?<=\w )(?:probably|possibly|perhaps|arguably|somewhat|generally|typically) "
                r"(?=[a-z])"), ""),
    (re.compile(r"\b(?:seems|appears|tends) to be\b"), "is"),
    (re.compile(r"\b(?:seem|appear|tend) to be\b"), "are"),
)  # fmt: skip
_EPISTEMIC = tuple(o for o in HEDGE_OPENERS if o.rstrip(", ") not in ("In most cases", "Generally",
                                                                     "Typically"))  # fmt: skip
_PAST = re.compile(r"\b(?:was|were|had|did|has been|have been|has [a-z]+ed|have [a-z]+ed)\b")
_EXPLANATION = re.compile(r"^(?:This|That|It)(?: is|'s| was) (?:because|why)\b|^This means\b")
_DISCLAIMER = re.compile(
    r"I may be wrong|I could be mistaken|I'm not (?:entirely |completely |100% )?sure|"
    r"I am not (?:entirely |completely )?sure|please verify|double-check|not guaranteed",
    re.IGNORECASE,
)


def apply(
    text: str, *, rng: np.random.Generator, direction: str = "more", dose: float = 0.3
) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"hedging: direction must be one of {DIRECTIONS}, not {direction!r}")
    if not 0 < dose <= 1:
        raise ValueError(f"hedging: dose must be in (0, 1] (share of sentences), not {dose}")
    if direction == "more":
        return _more(text, rng, dose)
    return _less(text)


def _hedgeable(sentence: str, text: str) -> str | None:
    """The sentence as it reads after a qualifier, or None where one does not fit."""
    first = sentence.split(" ", 1)[0].lower()
    if first not in SUBJECT_STARTS or not full_sentence(sentence) or _HEDGED_OPENER.match(sentence):
        return None
    if _EXPLANATION.match(sentence):
        return None  # "Typically, this is because ..." qualifies the wrong thing
    return fronted(sentence, text)


def _more(text: str, rng: np.random.Generator, dose: float) -> str:
    blocks = split_blocks(text)
    sentences = {i: split_sentences(b.body) for i, b in enumerate(blocks) if editable(blocks, i)}
    candidates = [
        (i, j, rest)
        for i, parts in sentences.items()
        for j, s in enumerate(parts)
        if (rest := _hedgeable(s, text)) is not None
    ]
    count = max(1, round(dose * len(candidates))) if candidates else 0
    for k in sorted(rng.permutation(len(candidates))[:count].tolist()):
        i, j, rest = candidates[k]
        # "In most cases" fits a general statement, not a particular event: a sentence
        # about the past takes an epistemic qualifier ("It seems that ...") instead.
        openers = _EPISTEMIC if _PAST.search(rest) else HEDGE_OPENERS
        sentences[i][j] = openers[int(rng.integers(len(openers)))] + rest
    out = list(blocks)
    for i in {i for i, _, _ in candidates}:
        out[i] = rejoined(blocks[i], sentences[i])
    disclaimer = HEDGE_DISCLAIMERS[int(rng.integers(len(HEDGE_DISCLAIMERS)))]
    return paragraph_add(join_blocks(out), disclaimer, at_start=False, before_courtesy=True)


def _confident(sentence: str) -> str:
    stripped = _HEDGED_OPENER.sub("", sentence)
    if stripped != sentence and stripped[:1].isalpha():
        sentence = upper_first(stripped)
    for pattern, replacement in _MODALS:
        sentence = pattern.sub(replacement, sentence)
    return sentence


def _less(text: str) -> str:
    text = sentences_drop(
        text,
        # A disclaimer with a courtesy or flattery phrase stays: that is another attribute.
        lambda s: (
            bool(_DISCLAIMER.search(s))
            and len(s.split()) <= 30
            and not POLITENESS.search(s)
            and not FLATTERY.search(s)
        ),
        exempt=("modal",),
    )
    return sentences_map(text, _confident)
