"""Render untrusted model answers: markdown to HTML, then sanitised.

Raw HTML in an answer is escaped by the renderer (``html: False``) and the output is
cleaned by nh3 (ammonia) as a second, independent layer, so a script tag in a model's
answer is shown as text and never runs.
"""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

_ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "del",
}
# No style attributes: the Content-Security-Policy forbids inline styles anyway.
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


# Prompts and control answers recur across stimuli and annotators, and rendering is most
# of a page's CPU: keyed by the text itself, a cached result can never be stale.
@lru_cache(maxsize=2048)
def markdown_render(text: str) -> str:
    return nh3.clean(
        _md.render(text),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
    )
