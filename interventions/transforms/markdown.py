"""Markdown: the same content as structured markdown (headers, lists, bold) or plain prose.

``add`` turns the follow-up sentences of a paragraph into a bullet list under its lead
sentence (only where they read as items: see ``_listable``), bolds the label of
``Label: text`` list items and makes a short line that introduces a list
(``Steps to follow:``) a header. ``remove`` does the reverse: header
lines become sentences, list items are joined into a paragraph and bold markers go.
Words are never added or dropped; code, tables and quotes are protected blocks and
stay as they are.
"""

import re

import numpy as np

from interventions.measures import FLATTERY, POLITENESS
from interventions.transforms.blocks import Block, join_blocks, split_blocks, split_sentences

NAME = "markdown"
VERSION = "2"
DIRECTIONS = ("add", "remove")
_LABEL = re.compile(r"^([A-Z][^:*`\n]{1,60}?):\s+(\S.*)$")
_HEADER_LINE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_LIST_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*|__([^_\n]+)__")


def apply(text: str, *, rng: np.random.Generator, direction: str = "add", dose: float = 1.0) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"markdown: direction must be one of {DIRECTIONS}, not {direction!r}")
    if not 0 < dose <= 1:
        raise ValueError(f"markdown: dose must be in (0, 1] (share of paragraphs), not {dose}")
    if direction == "add":
        return join_blocks(_add(split_blocks(text), rng, dose))
    return join_blocks(_remove(split_blocks(text)))


def _add(blocks: list[Block], rng: np.random.Generator, dose: float) -> list[Block]:
    out: list[Block] = []
    paragraphs = [i for i, b in enumerate(blocks) if _listable(blocks, i)]
    chosen = set(rng.permutation(paragraphs)[: max(1, round(dose * len(paragraphs)))].tolist())
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if block.kind != "prose":
            out.append(block)
        elif block.prefix:
            out.append(Block("prose", block.prefix, _bold_label(block.body)))
        elif i in chosen:
            lead, *items = _items(split_sentences(block.body))
            out.append(Block("prose", "", lead))
            out.append(Block("blank", "", ""))
            out.extend(Block("prose", "- ", _bold_label(item)) for item in items)
            if nxt is not None and nxt.kind != "blank":
                # Without a blank line the next line would continue the last bullet.
                out.append(Block("blank", "", ""))
        elif _introduces_list(blocks, i):
            out.append(Block("protected", "", "### " + block.body.rstrip().rstrip(":")))
        else:
            out.append(block)
    return out


# A sentence that already ends: with . ! ? : ; possibly inside a closing quote or bracket.
_TERMINAL = re.compile(r"[.!?:;][\"'”’)\]]*$")
_CONNECTIVE = re.compile(
    r"^(?:However|But|And|Or|So|Therefore|Thus|Also|Then|Additionally|Furthermore|Moreover|"
    r"This|That|These|Those|Such|"
    r"For example|For instance|In addition|Instead|Otherwise|Similarly|Finally)\b"
)


def _listable(blocks: list[Block], i: int) -> bool:
    """A paragraph whose follow-up sentences read as items under its lead: the lead is a
    statement, not an interjection or courtesy ("Sure!"); a follow-up that leans on the
    one before ("However, ...") stays in that sentence's item; none introduces what comes
    next ("It works as follows:"); and
    no list or indented line follows without a blank line, which would nest under the
    last bullet."""
    block = blocks[i]
    if block.kind != "prose" or block.prefix:
        return False
    parts = split_sentences(block.body)
    if len(parts) < 2:
        return False
    nxt = blocks[i + 1] if i + 1 < len(blocks) else None
    if nxt is not None and nxt.kind != "blank":
        return False
    lead, *rest = parts
    if len(lead.split()) < 4 or lead.endswith("!") or _courtesy(lead):
        return False
    if any(s.rstrip().endswith(":") or _courtesy(s) for s in rest):
        return False
    return len(_items(parts)) >= 2


def _items(sentences: list[str]) -> list[str]:
    """The lead and the list items: a sentence that leans on the one before ("However,
    ...") stays with it, in the same item."""
    items: list[str] = []
    for s in sentences:
        if items and _CONNECTIVE.match(s):
            items[-1] += " " + s
        else:
            items.append(s)
    return items


def _courtesy(sentence: str) -> bool:
    return bool(POLITENESS.search(sentence) or FLATTERY.search(sentence))


def _introduces_list(blocks: list[Block], i: int) -> bool:
    """A short line ending in ":" right before a list ("Steps to follow:"), which reads as
    a header; not one before a formula or a paragraph, nor one that continues a sentence
    ("So the full sequence would be:")."""
    body = blocks[i].body.rstrip()
    if not body.endswith(":") or len(body.split()) > 8 or _CONNECTIVE.match(body):
        return False
    k = i + 1
    while k < len(blocks) and blocks[k].kind == "blank":
        k += 1
    return k < len(blocks) and bool(blocks[k].prefix)


def _bold_label(body: str) -> str:
    if "**" in body or "__" in body:
        return body
    match = _LABEL.match(body)
    if not match or len(match.group(1).split()) > 6:
        return body
    return f"**{match.group(1)}**: {match.group(2)}"


def _plain(body: str) -> str:
    return _BOLD.sub(lambda m: m.group(1) or m.group(2), body)


def _sentence(body: str) -> str:
    body = _plain(body).rstrip()
    return body if _TERMINAL.search(body) else body + "."


def _remove(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    run: list[str] = []  # bodies of consecutive list items, joined into one paragraph

    def flush() -> None:
        if run:
            out.append(Block("prose", "", " ".join(run)))
            run.clear()

    for block in blocks:
        body = block.body
        if block.kind == "protected" and (header := _HEADER_LINE.match(body)):
            flush()
            out.append(Block("prose", "", _sentence(header.group(1))))
        elif block.kind == "protected" and "`" in body and (item := _LIST_LINE.match(body)):
            # Removing the marker of a line with inline code leaves its code span intact.
            run.append(_sentence_code(item.group(1)))
        elif block.kind == "prose" and block.prefix:
            run.append(_sentence(body))
        elif block.kind == "prose":
            flush()
            out.append(Block("prose", "", _plain(body)))
        else:
            flush()
            out.append(block)
    flush()
    return out


def _sentence_code(body: str) -> str:
    body = body.rstrip()
    return body if _TERMINAL.search(body) or body.endswith("`") else body + "."
