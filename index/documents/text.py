"""Text helpers every reader shares: bytes to text, newlines, the visible
text of HTML, pages joined with their offsets, words a typeset line end
broke, Markdown headings, and a title from a file name."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path


def title_from_name(name: str) -> str:
    """A readable title from a file name.

    >>> title_from_name("reports/Super_Bowl_50.txt")
    'Super Bowl 50'
    """
    stem = Path(name).stem
    return re.sub(r"[_\-]+", " ", stem).strip() or stem


def decode_text(raw: bytes) -> str:
    """Bytes to str: UTF-8 first (BOM tolerated), else the detected encoding.

    Raises ValueError for content that looks binary.
    """
    if b"\x00" in raw[:8192]:
        raise ValueError("binary content")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(raw)
    best = matches.best()
    if best is None:
        raise ValueError("unknown text encoding")
    # Short Western text fits several single-byte code pages equally well;
    # among equally good guesses, Windows-1252 is by far the most common.
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos + 0.01 and match.coherence >= best.coherence - 0.01:
            return str(match)
    return str(best)


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _VisibleText(HTMLParser):
    """Collect the text a browser would show, one block per line."""

    HIDDEN = {"script", "style", "head", "title", "template", "noscript", "svg", "iframe", "object"}
    BLOCKS = {
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article",
        "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
        "dd", "dt", "figcaption", "hr", "main", "nav", "aside", "td", "th",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text and <title> of an HTML page.

    >>> html_to_text("<title>T</title><p>Hi <b>there</b></p><script>x()</script>")
    ('Hi there', 'T')
    """
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(line for line in lines if line)
    return text, " ".join("".join(parser.title_parts).split())


def join_pages(pages: list[str]) -> tuple[str, tuple[int, ...]]:
    """Pages as one text, a blank line between, and where each page begins.

    >>> join_pages(["One.", "Two."])
    ('One.\\n\\nTwo.', (0, 6))
    """
    starts: list[int] = []
    text = ""
    for i, page in enumerate(pages):
        if i:
            text += "\n\n"
        starts.append(len(text))
        text += page
    return text, tuple(starts)


_LINE_END_HYPHEN = re.compile(r"(\w+)-\n([a-z]\w*)")


def dehyphenate(text: str) -> str:
    """Words a typeset page broke at a line end ("tempera-" / "ture") made
    whole again, the line break kept after them; a compound the text also
    writes with its hyphen elsewhere ("state-of-the-art") keeps it.

    >>> dehyphenate("The tempera-\\nture rose. A well-\\nknown well-known fact.")
    'The temperature\\n rose. A well-known\\n well-known fact.'
    >>> dehyphenate("Page 3-\\n4 and Smith-\\nJones stay.")
    'Page 3-\\n4 and Smith-\\nJones stay.'
    """
    hyphenated = {m.group().lower() for m in re.finditer(r"\w+-\w+", text)}

    def join(match: re.Match) -> str:
        left, right = match.group(1), match.group(2)
        kept = f"{left}-{right}".lower() in hyphenated or left.isdigit()
        return f"{left}-{right}\n" if kept else f"{left}{right}\n"

    return _LINE_END_HYPHEN.sub(join, text)


def markdown_headings(text: str) -> tuple[tuple[int, int], ...]:
    """``(offset, level)`` of each ATX heading line, outside code fences.

    >>> markdown_headings("# A\\ntext\\n```\\n# not one\\n```\\n## B")
    ((0, 1), (27, 2))
    """
    found, fenced, offset = [], False, 0
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            match = re.match(r"\s{0,3}(#{1,6})\s+\S", line)
            if match:
                found.append((offset, len(match.group(1))))
        offset += len(line) + 1
    return tuple(found)


def _markdown_title(text: str) -> str:
    match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else ""
