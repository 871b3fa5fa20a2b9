"""Render untrusted model answers: markdown to HTML, then sanitised.

Raw HTML in an answer is escaped by the renderer (``html: False``) and the output is
cleaned by nh3 (ammonia) as a second, independent layer, so a script tag in a model's
answer is shown as text and never runs. Fenced code that names its language is
highlighted by Pygments (token classes only; the colours are in highlight.css).
"""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

_formatter = HtmlFormatter(nowrap=True)
# The only classes a span may carry: Pygments' token classes (class names from nowhere
# else survive sanitising, so an answer cannot borrow the page's own styles).
_TOKEN_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name)


def _code_highlight(code: str, language: str, attributes: str) -> str:
    """A fenced block in its language's colours, or "" for markdown-it's plain block
    (no language given, or one Pygments does not know: guessing would be slow and often
    wrong)."""
    try:
        lexer = get_lexer_by_name(language, stripnl=False) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""
    return f'<pre class="highlight"><code>{highlight(code, lexer, _formatter)}</code></pre>'


def highlight_css() -> str:
    """The token colours collection/static/collection/highlight.css holds (Pygments'
    default style, whose colours meet WCAG AA on a light background)."""
    rules = HtmlFormatter(style="default").get_token_style_defs(".md pre.highlight")
    return "\n".join(rules) + "\n"


_md = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "highlight": _code_highlight}
).enable("table")

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
    "span",
}
# No style attributes: the Content-Security-Policy forbids inline styles anyway.
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


# Prompts and control answers recur across stimuli and annotators, and rendering is most
# of a page's CPU: keyed by the text itself, a cached result can never be stale.
@lru_cache(maxsize=2048)
def markdown_render(text: str) -> str:
    clean = nh3.clean(
        _md.render(text),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        allowed_classes={"span": _TOKEN_CLASSES, "pre": {"highlight"}},
    )
    # A code block scrolls inside itself, so keyboard users must be able to focus it
    # (WCAG 2.1.1). After sanitising, every "<pre" is one of our tags: an answer's own
    # "<pre" was escaped to "&lt;pre".
    return clean.replace("<pre", '<pre tabindex="0"')
