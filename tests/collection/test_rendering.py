"""Model answers as the label page shows them: markdown, sanitised, code highlighted."""

import re
from pathlib import Path

from collection.rendering import highlight_css, markdown_render

STATIC_CSS = Path(__file__).resolve().parents[2] / "collection/static/collection/highlight.css"
CODE_BACKGROUND = "#f8f8f8"  # .md pre in app.css


def test_fenced_code_in_a_known_language_is_highlighted_and_escaped():
    html = markdown_render("```python\nif x < 1:  # <script>alert(1)</script>\n    pass\n```")
    assert html.startswith('<pre tabindex="0" class="highlight"><code>')
    assert '<span class="k">if</span>' in html
    assert '<span class="c1"># &lt;script&gt;alert(1)&lt;/script&gt;</span>' in html
    assert "<script" not in html


def test_code_without_a_known_language_is_a_plain_escaped_block():
    for fence in ("```", "```no-such-language"):
        html = markdown_render(f"{fence}\na <b> c\n```")
        assert html == '<pre tabindex="0"><code>a &lt;b&gt; c\n</code></pre>\n'


def test_an_answer_cannot_carry_classes_spans_or_pre_tags_of_its_own():
    html = markdown_render('<span class="visually-hidden">hidden</span> <pre>text</pre>')
    assert "<span" not in html and "&lt;span" in html
    assert "<pre" not in html and "&lt;pre&gt;text" in html


def _luminance(hex_colour: str) -> float:
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_static_colours_are_pygments_own_and_meet_wcag_aa_on_the_code_background():
    css = STATIC_CSS.read_text()
    assert css == highlight_css(), (
        "highlight.css is out of date: write collection.rendering.highlight_css() to it"
    )
    background = _luminance(CODE_BACKGROUND)
    rules = re.findall(r"\.highlight \.(\w+) \{[^}]*?\bcolor: (#[0-9A-Fa-f]{3,6})", css)
    # Whitespace (.w) is coloured too, but has no glyphs to read.
    colours = [colour for token, colour in rules if token != "w"]
    assert len(colours) > 30
    for colour in colours:
        ratio = (max(_luminance(colour), background) + 0.05) / (
            min(_luminance(colour), background) + 0.05
        )
        assert ratio >= 4.5, f"{colour} on {CODE_BACKGROUND}: contrast {ratio:.2f}"
