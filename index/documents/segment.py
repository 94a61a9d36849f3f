"""Split text into sentences with exact character offsets.

nupunkt (a Punkt sentence tokenizer trained for English: abbreviations,
decimals, initials, quotes) decides where sentences end, about forty times
faster than pysbd with as good boundaries on our question sets; this module
trims its spans so that ``text[s.start:s.end]`` is always the sentence, and
marks headings so the chunker can keep them with the text below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MAX_SENTENCE_CHARS = 1000
_TERMINAL = tuple('.!?:;"”’)…')


@dataclass(frozen=True)
class Span:
    """A sentence (or heading) at ``text[start:end]`` within paragraph ``para``."""

    start: int
    end: int
    para: int
    heading: bool = False


@lru_cache(maxsize=1)
def _spans():
    import nupunkt

    return nupunkt.sent_spans


_LIST_ITEM = re.compile(r"^(?:[-*•▪–]\s|\d{1,3}[.)]\s|[a-z][.)]\s|#)")
_BULLET = re.compile(r"[-*•▪–]\s+")
WRAP_MIN_CHARS = 40  # a line shorter than this ends its paragraph unless the next one continues it in lower case


def _lines(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, follows a blank line) of each non-blank line, trimmed.

    >>> _lines(" a\\n\\n b \\nc")
    [(1, 2, True), (5, 6, True), (8, 9, False)]
    """
    lines, blank, offset = [], True, 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = offset + len(line) - len(line.lstrip())
            lines.append((start, start + len(stripped), blank))
            blank = False
        else:
            blank = True
        offset += len(line) + 1
    return lines


def continues(line: str, following: str, width: int) -> bool:
    """Does ``following`` carry on the paragraph of ``line``: a hard-wrapped
    line (PDFs, e-mails, plain text at 72 columns) rather than a new one?

    A line ending a sentence, a short line (a heading, an address, a list),
    and a next line opening a list item or a heading start a new paragraph;
    a next line opening in lower case continues one.

    >>> continues("The shed closes at half past nine in the", "evening, and cyclists leave.", 44)
    True
    >>> continues("It rained all day.", "Then it stopped.", 44)
    False
    >>> continues("Key Highlights", "Singh met Dong Jun.", 60)
    False
    >>> continues("Singh met the defence ministers of the ASEAN countries and", "Rajnath Singh said.", 60)
    True
    >>> continues("Three points were agreed upon by all of the members of the", "- peace", 60)
    False
    """
    if line.endswith(_TERMINAL) or _LIST_ITEM.match(following):
        return False
    if following[:1].islower() or line.endswith((",", "-", "—", "–")):
        return True
    return len(line) >= max(WRAP_MIN_CHARS, 0.6 * width)


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, whitespace trimmed: a blank line or
    a line that does not continue the one before (``continues``) starts a
    new one, so a hard-wrapped sentence stays one sentence.

    >>> paragraphs("  a b\\n\\nc ")
    [(2, 5), (7, 8)]
    >>> text = "Title\\nThe shed closes at half past nine in the\\nevening. Guards lock it.\\n\\nNext."
    >>> [text[a:b] for a, b in paragraphs(text)]
    ['Title', 'The shed closes at half past nine in the\\nevening. Guards lock it.', 'Next.']
    """
    lines = _lines(text)
    if not lines:
        return []
    width = max(end - start for start, end, _ in lines)
    spans = [[lines[0][0], lines[0][1]]]
    for (start, end, after_blank), (p_start, p_end, _) in zip(lines[1:], lines):
        if not after_blank and continues(text[p_start:p_end], text[start:end], width):
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [(a, b) for a, b in spans]


_FIELD = re.compile(r"\w[:=]\s*\S")  # "Deadline: 15 March", "Room = B2": a label and its value
_NUMBERED = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVX]+\.|[A-Z]\.)\s+\S")  # "2.1 Methods", "IV. Results"
TITLE_MAX_WORDS = 20
_TITLE_ENDS = tuple(set(_TERMINAL) - {"?"})
_SMALL_WORDS = 3  # words this short ("of", "and", "the") stay lower case in a title


def title_like(line: str) -> bool:
    """Is ``line`` written as a title: all capitals, or every longer word capitalised?

    >>> title_like("Key Highlights From The Meeting"), title_like("RESULTS"), title_like("The staff canteen closes")
    (True, True, False)
    """
    letters = [w for w in re.findall(r"[^\W\d_][\w'’-]*", line)]
    if not letters:
        return False
    if line.upper() == line:
        return True
    longer = [w for w in letters if len(w) > _SMALL_WORDS] or letters
    return sum(w[0].isupper() for w in longer) >= 0.8 * len(longer)


def is_heading(line: str, next_line: str | None) -> bool:
    """A line that titles the section below it: short, without closing
    punctuation, followed by more text that does not carry it on, and
    written as a title (or numbered as a section, or a few words only).
    A line that states something without a full stop (an OCR'd or slide
    line, a form field, a table row) is not a heading: it may answer.

    >>> is_heading("Key Highlights From The Meeting", "Focus: more text.")
    True
    >>> is_heading("2.1 Data collection", "We asked 40 people."), is_heading("Related articles", "More.")
    (True, True)
    >>> is_heading("He left.", "Then he came back.")
    False
    >>> is_heading("The staff canteen closes at 15:30 on Fridays", "during the renovation.")
    False
    >>> is_heading("Deadline: 15 March", "Send it to the office."), is_heading("Total | 42 | 17", "Next row")
    (False, False)
    """
    if line.startswith("#"):
        return True
    if next_line is None or len(line) > 100 or line.endswith(_TERMINAL) or next_line[:1].islower():
        return False
    words = line.split()
    if len(words) > 12 or _FIELD.search(line) or "|" in line or "\t" in line:
        return False
    if _NUMBERED.match(line) or title_like(line):
        return True
    return len(words) <= 3 and not any(ch.isdigit() for ch in line)


def is_title(line: str, next_line: str | None) -> bool:
    """A document's first line that titles it: without closing punctuation,
    at most ``TITLE_MAX_WORDS`` words, followed by more text. A news
    headline in sentence case is a title, not a statement to quote.

    >>> is_title("Scott Rolen elected to Hall of Fame, joins Fred McGriff in 2023 class", "Rolen played 17 seasons.")
    True
    >>> is_title("Damar Hamlin injury: What is the NFL's emergency action plan?", "The NFL said.")
    True
    >>> is_title("The staff canteen closes at 15:30 on Fridays", "during the renovation.")
    False
    """
    if next_line is None or line.endswith(_TITLE_ENDS) or next_line[:1].islower() or len(line) > 150:
        return False
    return len(line.split()) <= TITLE_MAX_WORDS


def split_long(start: int, end: int, text: str, limit: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """Cut a span longer than ``limit`` at whitespace so no unit is unbounded.

    >>> split_long(0, 11, "aaaa bbbb c", limit=5)
    [(0, 4), (5, 9), (10, 11)]
    """
    pieces = []
    while end - start > limit:
        cut = text.rfind(" ", start + 1, start + limit + 1)
        if cut <= start:
            cut = start + limit
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def _sentences_in(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``, whitespace trimmed."""
    chunk = text[start:end]
    spans = []
    for s_start, s_end in _spans()(chunk):
        piece = chunk[s_start:s_end]
        stripped = piece.strip()
        if not stripped:
            continue
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + s_start + lead, start + s_start + lead + len(stripped)))
    if not spans:
        spans.append((start, end))
    return spans


def sentences(text: str) -> list[str]:
    """The sentences of one paragraph of plain text (a question, say), trimmed.

    >>> sentences("The U.S. House met on Jan. 3. Who spoke?")
    ['The U.S. House met on Jan. 3.', 'Who spoke?']
    """
    return [text[start:end] for start, end in _sentences_in(text, 0, len(text)) if end > start]


def split_sentences(text: str) -> list[Span]:
    """Sentences and headings of ``text``, in order, with offsets.

    >>> [text[s.start:s.end] for text in ["Title\\nIt rained. Dr. Li left."] for s in split_sentences(text)]
    ['Title', 'It rained.', 'Dr. Li left.']
    >>> [text[s.start:s.end] for text in ["Plan\\n- Budget approved at 2.4 million\\n- Sites in Ghent"] for s in split_sentences(text)]
    ['Plan', 'Budget approved at 2.4 million', 'Sites in Ghent']
    """
    paras = paragraphs(text)
    spans: list[Span] = []
    for index, (start, end) in enumerate(paras):
        bullet = _BULLET.match(text, start, end)
        if bullet and bullet.end() < end:  # a bullet's marker is layout: quote the item without it
            start = bullet.end()
        line = text[start:end]
        following = text[paras[index + 1][0] : paras[index + 1][1]] if index + 1 < len(paras) else None
        if is_heading(line, following) or (index == 0 and is_title(line, following)):
            spans.append(Span(start, end, index, heading=True))
            continue
        for s_start, s_end in _sentences_in(text, start, end):
            for p_start, p_end in split_long(s_start, s_end, text):
                spans.append(Span(p_start, p_end, index))
    return spans
