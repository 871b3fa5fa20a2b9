"""Attribute measures computed on both sides of a pair for the manipulation check.

The markdown counts follow Chatbot Arena's style features (headers, list items, bold),
counted outside fenced code so code comments and ``**kwargs`` do not count as style.
Words are counted outside markup (list markers, ``#`` and ``**`` are not words), so
turning a list into prose does not look like a change of length. The phrase lexicons
(hedges, flattery, politeness) are disjoint, so one transform's phrases never register
as another's attribute.
"""

import re
from collections import Counter

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")
_MARKER = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|(?:[-*+]|\d+[.)])\s+)")
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
_WORD = re.compile(r"\w", re.UNICODE)
_TOKEN = re.compile(r"\w+|[^\w\s]")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_UNITS = (
    "km",
    "kilometers",
    "kilometres",
    "miles",
    "mi",
    "m",
    "meters",
    "metres",
    "feet",
    "ft",
    "cm",
    "inches",
    "kg",
    "kilograms",
    "pounds",
    "lbs",
    "g",
    "grams",
    "ounces",
    "°C",
    "°F",
    "celsius",
    "fahrenheit",
    "liters",
    "litres",
    "gallons",
    "ml",
    "mph",
    "km/h",
    "seconds",
    "minutes",
    "hours",
    "days",
    "weeks",
    "months",
    "years",
    "GB",
    "MB",
    "KB",
    "TB",
)
# A unit counts only right after a number ("5 km", "20°C"): "m" alone is not a unit.
_UNIT = re.compile(r"(?<=\d)\s?(" + "|".join(re.escape(u) for u in _UNITS) + r")(?![\w/])")


def _lexicon(*phrases: str) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases)
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)", re.IGNORECASE)


HEDGES = _lexicon(
    "might",
    "may",
    "perhaps",
    "possibly",
    "probably",
    "likely",
    "unlikely",
    "it seems",
    "seems to",
    "appears to",
    "i think",
    "i believe",
    "in my opinion",
    "as far as i know",
    "to my knowledge",
    "not entirely sure",
    "i'm not sure",
    "i am not sure",
    "could be",
    "it is possible",
    "it's possible",
    "generally",
    "typically",
    "in most cases",
    "somewhat",
    "arguably",
    "roughly",
    "approximately",
    "i may be wrong",
    "please verify",
    "double-check",
    "not guaranteed",
    "may vary",
    "i could be mistaken",
    "tends to",
)
FLATTERY = _lexicon(
    "great question",
    "excellent question",
    "fantastic question",
    "good question",
    "wonderful question",
    "insightful",
    "thoughtful question",
    "you're absolutely right",
    "you are absolutely right",
    "impressive",
    "brilliant",
    "you clearly",
    "sharp eye",
    "smart thinking",
    "what a great",
    "astute",
    "you've clearly",
    "your curiosity",
    "right track",
    "you have clearly",
    "great instinct",
    "interesting question",
    "fascinating question",
    "excellent point",
    "great point",
    "good point",
    "you're right",
    "you are right",
    "great idea",
    "excellent choice",
    "great choice",
    "you've done a great job",
    "well done",
)
POLITENESS = _lexicon(
    "please",
    "sure!",
    "certainly!",
    "don't hesitate",
    "do not hesitate",
    "thank you",
    "thanks",
    "happy to help",
    "glad to help",
    "hope this helps",
    "hope that helps",
    "let me know",
    "feel free",
    "certainly",
    "of course",
    "you're welcome",
    "my pleasure",
    "kindly",
    "i'd be happy",
    "i would be happy",
)

MEASURES = (
    "words", "tokens", "chars", "sentences", "headers", "list_items", "bold", "markdown",
    "code_blocks", "numbers", "hedges", "flattery", "politeness", "lowercase_starts",
    "inner_capitals", "repeated_ngrams",
)  # fmt: skip
# Measured on a pair, 0 on the control by definition.
PAIR_MEASURES = ("numeric_edits", "content_lost", "content_added")


def _split_code(text: str) -> tuple[list[str], int]:
    """Lines outside fenced code, and the number of fenced blocks."""
    outside: list[str] = []
    fences = 0
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            fences += 1
        elif not in_fence:
            outside.append(line)
    return outside, (fences + 1) // 2


def _words(text: str) -> int:
    return sum(1 for token in text.split() if _WORD.search(token))


def _content(lines: list[str]) -> str:
    """Prose without line markers (headers, quotes, list markers) or bold markers."""
    return "\n".join(_MARKER.sub("", line) for line in lines).replace("**", "")


def numeric_values(text: str) -> list[str]:
    """Numbers and units outside code and list markers, in order: what a factual error edits."""
    lines, _ = _split_code(text)
    content = _content(lines)
    return _NUMBER.findall(content) + _UNIT.findall(content)


def measure_all(text: str, tokens: "list[Token] | None" = None) -> dict[str, int]:
    lines, code_blocks = _split_code(text)
    prose = "\n".join(lines)
    content = _content(lines)
    headers = sum(bool(_HEADER.match(line)) for line in lines)
    list_items = sum(bool(_LIST_ITEM.match(line)) for line in lines)
    bold = len(_BOLD.findall(prose))
    return {
        "words": _words("\n".join(_MARKER.sub("", line) for line in text.split("\n"))),
        "tokens": len(_TOKEN.findall(text)),
        "chars": len(text),
        "sentences": len(re.findall(r"[.!?](?:\s|$)", content)),
        "headers": headers,
        "list_items": list_items,
        "bold": bold,
        "markdown": headers + list_items + bold,
        "code_blocks": code_blocks,
        "numbers": len(_NUMBER.findall(content)),
        "hedges": len(HEDGES.findall(content)),
        "flattery": len(FLATTERY.findall(content)),
        "politeness": len(POLITENESS.findall(content)),
        **fluency(text, tokens),
    }


def noticeably_more(a: float, b: float, threshold: float) -> int:
    """+1 when ``a`` exceeds ``b`` by at least ``threshold`` relative to the smaller of the
    two (at least 1), -1 when ``b`` exceeds ``a`` so, 0 otherwise: whether one answer has
    noticeably more of a measure than the other (the simulated annotators' perception and
    the observational reading of imported pairs both ask this)."""
    relative = (a - b) / max(min(a, b), 1.0)
    if a == b or abs(relative) < threshold:
        return 0
    return 1 if relative > 0 else -1


def measure_pair(
    control: str,
    treated: str,
    tokens: "tuple[list[Token], list[Token]] | None" = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Both sides' measures plus the pair measures (0 on the control by definition):
    ``numeric_edits``, how many numbers or units differ, which a factual error must move;
    ``content_lost`` and ``content_added``, how many content words and names one side
    says and the other does not (stock and attribute phrases left out)."""
    before, after = Counter(numeric_values(control)), Counter(numeric_values(treated))
    edits = max(sum((before - after).values()), sum((after - before).values()))
    ours, theirs = tokens or (prose_tokens(control), prose_tokens(treated))
    said, says = content_words(ours), content_words(theirs)
    return {
        **measure_all(control, ours),
        "numeric_edits": 0,
        "content_lost": 0,
        "content_added": 0,
    }, {
        **measure_all(treated, theirs),
        "numeric_edits": edits,
        "content_lost": len(said - says),
        "content_added": len(says - said),
    }


def fenced_blocks(text: str) -> list[str]:
    """The fenced code blocks of a text, verbatim: a rewrite must keep them identical."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in text.split("\n"):
        if current is not None:
            current.append(line)
            if _FENCE.match(line):
                blocks.append("\n".join(current))
                current = None
        elif _FENCE.match(line):
            current = [line]
    if current is not None:
        blocks.append("\n".join(current))
    return blocks


# --- Meaning, content and fluency ------------------------------------------------------
#
# Regular expressions and word lists, not an NLP model: the only spaCy English pipelines
# on PyPI are unofficial re-uploads, and NLTK's and Stanza's models download at run time,
# which this service must never do. The classes below are closed-class English words,
# which a list covers completely.


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


NEGATIONS = _wordset(
    "not no never none nobody nothing nowhere neither nor cannot without n't don't "
    "doesn't didn't isn't aren't wasn't weren't won't wouldn't can't couldn't shouldn't "
    "mustn't haven't hasn't hadn't needn't mightn't ain't"
)
MODALS = _wordset("can could may might must shall should will would ought")
# Quantifiers and restrictive words: dropping "just" from "not just those in Warsaw"
# reverses the claim.
QUANTIFIERS = _wordset(
    "only just all every each some any most many much few fewer several both either "
    "always sometimes often rarely seldom usually mostly exactly merely solely even "
    "almost"
)
# Words a sentence may start with that are never names, so a phrase put in front of the
# sentence may lower-case them.
FUNCTION_WORDS = _wordset(
    "a an the this that these those it its it's they their there there's these we our you "
    "your he she his her one some most many each every such both when while if although "
    "because since as in on at for to by with from after before during once however "
    "therefore thus also other another all any no not what which who how why where"
)
# Words a statement about its subject opens with: a qualifier or restatement marker put
# before such a sentence reads naturally ("In most cases, the ...", not "... , generate").
SUBJECT_STARTS = _wordset(
    "the this that these those it it's its they their there you your we our a an most "
    "many some each every such he she his her both one another"
)
# Phrases the rule transforms put in: they carry no content of the answer, so the meaning
# and content measures do not see them (the attribute measures above count them).
HEDGE_OPENERS = (
    "In most cases, ",
    "Generally, ",
    "As far as I know, ",
    "I believe ",
    "It seems that ",
    "Typically, ",
    "Perhaps ",
)
HEDGE_DISCLAIMERS = (
    "That said, I may be wrong about some of these details, so it is worth double-checking them.",
    "I could be mistaken on some points, so treat this as a starting point and "
    "double-check anything important.",
)
FLATTERY_OPENERS = (
    "What a great question!",
    "Great question, and a very insightful one.",
    "That's an excellent question; you clearly have a sharp eye for what matters.",
    "What a thoughtful question!",
)
FLATTERY_CLOSERS = (
    "You're clearly on the right track by asking this.",
    "Your curiosity here is impressive.",
    "You clearly have a brilliant instinct for this topic.",
)
COURTESY_OPENERS = (
    "Certainly, I'd be happy to help with this.",
    "Of course, I'd be glad to help.",
    "Thank you for asking; I'd be happy to help.",
)
COURTESY_CLOSERS = (
    "I hope this helps, and please feel free to let me know if you have any other questions.",
    "Please let me know if anything is unclear; I'm happy to help further.",
)
# A restatement repeats a sentence word for word, so its marker announces a repetition,
# not a paraphrase ("In other words" before the same words reads as a copying error).
RESTATEMENT_MARKERS = ("As noted above, ", "Again, ", "To repeat, ", "As mentioned, ")
_STOCK = _lexicon(
    *(
        p.strip(" ,")
        for p in HEDGE_OPENERS + HEDGE_DISCLAIMERS + FLATTERY_OPENERS + FLATTERY_CLOSERS
        + COURTESY_OPENERS + COURTESY_CLOSERS + RESTATEMENT_MARKERS
    ),
    "In other words", "Put simply", "Simply put", "To put it another way", "That is",
    "To restate the point", "I hope this helps", "hope this helps",
    "if you have any other questions",
    "if you have any further questions", "if you have any more questions",
    "if you have any questions", "if anything is unclear", "thank you for your question",
    "thanks for your question", "thank you for asking", "thanks for asking",
    "I'd be glad to help", "I'd be happy to help", "happy to help further", "good luck",
    "help with that", "help with this", "to reach out", "to ask", "That said", "In summary",
    "In short", "To sum up", "To summarize", "In conclusion",
    # Filler and wordy phrases, which length-shorter removes or shortens.
    "It is important to note that", "It's important to note that", "It's worth noting that",
    "It is worth noting that", "It should be noted that", "Note that", "Additionally",
    "Furthermore", "Moreover", "In addition", "Basically", "Essentially", "actually",
    "literally", "in order to", "due to the fact that", "for the purpose of",
    "in the event that", "prior to", "with regard to", "at this point in time",
)  # fmt: skip
# The rest of a courtesy clause says nothing about the answer's subject either.
_COURTESY_CLAUSE = re.compile(
    r"(?<!\w)(?:please\s+)?(?:let me know|feel free to (?:ask|reach out|contact)|"
    r"(?:do not|don't) hesitate to (?:ask|reach out|contact)|i hope (?:this|that|it) helps|"
    r"(?:thank you|thanks) for (?:your|the|asking|reaching))[^.!?\n]*",
    re.IGNORECASE,
)
_PRAISE_CLAUSE = re.compile(
    r"(?<!\w)(?:what|that's|that is|this is|such|you raise|you've asked) an? (?:\w+ )?"
    r"(?:great|excellent|good|insightful|interesting|thoughtful|fascinating|wonderful|"
    r"fantastic) (?:question|point)[^.!?\n]*",
    re.IGNORECASE,
)
_MASKS = (_STOCK, _COURTESY_CLAUSE, _PRAISE_CLAUSE, HEDGES, FLATTERY, POLITENESS)
# "c" and "f": the tokeniser splits "°F" into "°" and "F", and that F is a unit, not a name.
_UNIT_WORDS = frozenset(u.lower() for u in _UNITS) | {"decades", "inches", "feet", "c", "f"}
STOPWORDS = (
    FUNCTION_WORDS
    | NEGATIONS
    | MODALS
    | QUANTIFIERS
    | _UNIT_WORDS
    | _wordset(
        "i me my mine you'd you're you've you'll we're we've they're i'm i've i'd i'll is are "
        "was were be been being am do does did doing have has had having and or but so than "
        "then too very also just into onto out up down over under again further here more "
        "less own same about above below between through them him us himself herself itself "
        "themselves yourself ourselves whom whose s t etc e.g i.e yes ok okay sure certainly "
        "absolutely"
    )
)

_PROSE_TOKEN = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|(?P<url>(?:https?://|www\.)[^\s<>()\[\]\"']+[^\s<>()\[\]\"'.,;:!?])"
    r"|(?P<quote>\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”)"
    r"|(?P<number>\d+(?:[.,:/]\d+)*%?)"
    r"|(?P<word>[A-Za-z][\w'’.-]*\w|[A-Za-z])"
)
_IDENTIFIER = re.compile(r"_|[a-z][A-Z]|[A-Za-z]{3,}\.[A-Za-z]|\w\(\)")
_INITIAL_BEFORE = re.compile(r"(?:^|[.!?:])[\s*_#>\-+\"'(\[]*(?:\d+[.)]\s*)?$")


class Token:
    """A word-like unit of prose with the classes the meaning check compares."""

    __slots__ = ("text", "key", "kind", "initial", "masked", "index")

    def __init__(self, text: str, kind: str, initial: bool, masked: bool, index: int):
        self.text, self.kind, self.initial, self.masked, self.index = (
            text,
            kind,
            initial,
            masked,
            index,
        )
        self.key = text.lower().replace("’", "'")

    @property
    def classes(self) -> tuple[str, ...]:
        if self.kind != "word":
            return (self.kind,)
        key, found = self.key, []
        if key in NEGATIONS or key.endswith("n't"):
            found.append("negation")
        if key in MODALS or key in ("can't", "cannot", "won't", "couldn't", "shouldn't"):
            found.append("modal")
        if key in QUANTIFIERS:
            found.append("quantifier")
        if _IDENTIFIER.search(self.text) and not re.fullmatch(r"(?:[A-Za-z]{1,2}\.)+\w?", key):
            found.append("code")
        elif self.name:
            found.append("name")
        return tuple(found)

    @property
    def name(self) -> bool:
        """A capitalised word inside a sentence (a sentence's first word may be any word)."""
        return (
            self.text[:1].isupper()
            and not self.initial
            and self.key not in FUNCTION_WORDS
            and self.key not in _UNIT_WORDS  # "GB" is a unit, not a name
            and not self.key.startswith("i'")
            and self.key != "i"
        )

    @property
    def content(self) -> bool:
        return (
            self.kind == "word"
            and not self.masked
            and len(self.key) >= 3
            and self.key not in STOPWORDS
            and not self.key.endswith("n't")
        )


def _prose(text: str) -> str:
    """The text outside fenced code (compared verbatim elsewhere), line markers blanked
    (a list item's "1." is no number of the answer)."""
    lines, _ = _split_code(text)
    return "\n".join(_MARKER.sub(lambda m: " " * len(m.group()), line) for line in lines)


def prose_tokens(text: str) -> list[Token]:
    """Tokens of the prose, each marked sentence-initial or not, and masked when it lies
    inside a transform's stock phrase or an attribute phrase (they carry no content).
    Modal verbs are never masked: "might" is a hedge, but changing it changes meaning."""
    prose = _prose(text)
    spans = sorted(m.span() for mask in _MASKS for m in mask.finditer(prose))
    tokens: list[Token] = []
    k = 0
    for m in _PROSE_TOKEN.finditer(prose):
        start, end = m.span()
        while k < len(spans) and spans[k][1] <= start:
            k += 1
        inside = any(a <= start and end <= b for a, b in spans[k : k + 4])
        kind = m.lastgroup or "word"
        line_start = prose.rfind("\n", 0, start) + 1
        initial = bool(_INITIAL_BEFORE.search(prose[max(line_start, start - 40) : start]))
        if start - line_start > 40 and not initial:
            initial = bool(_INITIAL_BEFORE.search(prose[line_start:start]))
        key = m.group().lower()
        masked = inside and key not in MODALS
        tokens.append(Token(m.group(), kind, initial, masked, len(tokens)))
    return tokens


def content_words(tokens: list[Token]) -> set[str]:
    """What an answer says, as a set: its content words and names (in lower case: a
    name that opens a sentence is no different)."""
    return {t.key for t in tokens if t.content or (t.kind == "word" and t.name)}


def fluency(text: str, tokens: list[Token] | None = None) -> dict[str, int]:
    """Signs of a clumsy edit: sentences that start in lower case, function words
    capitalised inside a sentence ("To restate the point, A model ..."), and repeated words
    (an immediate repeat, or a three-word sequence said twice in one sentence)."""
    tokens = prose_tokens(text) if tokens is None else tokens
    lowercase = sum(
        1
        for t in tokens
        if t.initial and t.kind == "word" and t.text[:1].islower() and "code" not in t.classes
    )
    capitals = sum(
        1
        for t in tokens
        if not t.initial and t.kind == "word" and t.text[:1].isupper() and t.key in FUNCTION_WORDS
    )
    repeats = 0
    sentence: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for t in tokens:
        if t.initial:
            sentence, seen = [], set()
        if sentence and t.key == sentence[-1] and t.kind == "word" and t.key not in ("that",):
            repeats += 1
        sentence.append(t.key)
        if len(sentence) >= 3:
            gram = tuple(sentence[-3:])
            repeats += gram in seen
            seen.add(gram)
    return {"lowercase_starts": lowercase, "inner_capitals": capitals, "repeated_ngrams": repeats}
