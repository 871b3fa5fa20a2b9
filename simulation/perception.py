"""What a simulated annotator perceives in a pair: attribute measures of the HTML shown.

The annotator API sends each response as sanitised HTML, so a simulated annotator reads
that, as a person reads the rendered page: words and phrase counts from the text, the
markdown structure from the tags it became (headers, list items, bold). The planted
truth renders the stimuli the same way, so truth and behaviour agree.
"""

import html
import re

from collection.rendering import markdown_render
from interventions.measures import measure_all

_TAG = re.compile(r"<[^>]+>")
_HEADER = re.compile(r"<h[1-6][\s>]", re.IGNORECASE)
_ITEM = re.compile(r"<li[\s>]", re.IGNORECASE)
_BOLD = re.compile(r"<(?:strong|b)[\s>]", re.IGNORECASE)
# Block ends become line breaks, so sentences and list items stay apart in the text.
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|pre|blockquote|tr)>|<br\s*/?>", re.IGNORECASE)


def attributes_from_html(markup: str) -> dict[str, float]:
    text = html.unescape(_TAG.sub("", _BLOCK_END.sub("\n", markup)))
    measures = {k: float(v) for k, v in measure_all(text).items()}
    headers = len(_HEADER.findall(markup))
    items = len(_ITEM.findall(markup))
    bold = len(_BOLD.findall(markup))
    measures.update(headers=headers, list_items=items, bold=bold, markdown=headers + items + bold)
    return measures


def attributes_from_text(text: str) -> dict[str, float]:
    """The measures of a response as the annotator page shows it."""
    return attributes_from_html(markdown_render(text))
