"""A saved web page read into its main text: the article, not the menus,
cookie notices, related-article lists, captions and share buttons around it.

trafilatura finds the main content (its own heuristics, with jusText as a
fallback); this module lays it out as askdoc's text: headings, paragraphs,
list items and table rows each on their own paragraph, headings recorded
with their level so a citation can name its section. A page where it finds
nothing (an index page, a bare list) keeps its whole visible text.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from index.documents.text import html_to_text

log = logging.getLogger(__name__)


def main_text(html: str) -> tuple[str, str, tuple[tuple[int, int], ...]]:
    """``(text, title, headings)`` of a page: its main content laid out in
    blocks a blank line apart, the ``<title>``, and ``(offset, level)`` of
    each heading.

    >>> page = ("<title>Fuel</title><nav><a href=/>Home</a> <a href=/w>World</a></nav><article>"
    ...         "<h1>Gas prices fall</h1><p>Gas prices fell for the fourth straight week, the motor club said.</p>"
    ...         "<h2>Why</h2><ul><li>Crude oil dropped 5 percent</li></ul></article><footer>Share on Facebook</footer>")
    >>> text, title, headings = main_text(page)
    >>> text.split("\\n\\n")
    ['Gas prices fall', 'Gas prices fell for the fourth straight week, the motor club said.', 'Why', '- Crude oil dropped 5 percent']
    >>> title, headings
    ('Fuel', ((0, 1), (85, 2)))
    """
    visible, title = html_to_text(html)
    blocks = _blocks(html)
    if not blocks:
        return visible, title, ()
    text, headings = "", []
    for kind, level, block in blocks:
        if text:
            text += "\n\n"
        if kind == "head":
            headings.append((len(text), level))
        text += block
    return text, title, tuple(headings)


def _blocks(html: str) -> list[tuple[str, int, str]]:
    """(kind, heading level, text) of each block trafilatura keeps, in order."""
    import trafilatura
    from lxml import etree

    if "<body" not in html.lower():  # a fragment: trafilatura looks for a body
        html = f"<html><body>{html}</body></html>"
    try:
        xml = trafilatura.extract(html, output_format="xml", include_comments=False, include_tables=True,
                                  include_images=False, include_links=False, include_formatting=False,
                                  config=_config())
    except Exception as exc:  # noqa: BLE001 - a page it cannot parse keeps its visible text
        log.info("main text not found (%s): keeping the visible text", exc)
        return []
    if not xml:
        return []
    main = etree.fromstring(xml.encode("utf-8")).find("main")
    blocks: list[tuple[str, int, str]] = []
    for element in (main if main is not None else []):
        _add(element, blocks)
    return [(kind, level, text) for kind, level, text in blocks if text]


@lru_cache(maxsize=1)
def _config():
    from trafilatura.settings import use_config

    config = use_config()
    # An intranet page may be one short notice: its text is still its main text.
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "25")
    # Its timeout is a signal, which only the main thread may set; pages are read in worker threads.
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def _add(element, blocks: list[tuple[str, int, str]]) -> None:
    tag = element.tag
    if tag == "head":
        rend = element.get("rend") or "h2"
        level = int(rend[1]) if len(rend) == 2 and rend[1].isdigit() else 2
        blocks.append(("head", level, _flat(element)))
    elif tag == "list":
        for item in element.iter("item"):
            own = _flat(item, skip_lists=True)
            if own:
                blocks.append(("item", 0, f"- {own}"))
    elif tag == "table":
        for row in element.iter("row"):
            cells = [_flat(cell) for cell in row.iter("cell")]
            if any(cells):
                blocks.append(("row", 0, " | ".join(cells)))
    else:
        blocks.append(("text", 0, _flat(element)))


def _flat(element, skip_lists: bool = False) -> str:
    """An element's text on one line (a nested list's items are its own blocks)."""
    parts = []
    if element.text:
        parts.append(element.text)
    for child in element:
        if not (skip_lists and child.tag == "list"):
            parts.append(_flat(child))
        if child.tail:
            parts.append(child.tail)
    return " ".join("".join(parts).split())
