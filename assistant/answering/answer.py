"""What a question gets: an ``Answer`` of verbatim ``Quote``s, each
citing numbered ``Citation``s (an excerpt, its offsets in the stored
text and the sentences it highlights), or "the documents don't say".
``compose`` builds them; every front end reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NOT_FOUND = "The documents don't say."
_LINE_BREAK = re.compile(r"[ \t]*\n\s*")


def one_line(sentence: str) -> str:
    """A sentence as an answer quotes it: a hard wrap's line break read as a space.

    >>> one_line("closes at half past\\n  nine.")
    'closes at half past nine.'
    """
    return _LINE_BREAK.sub(" ", sentence)  # characters of whitespace two copies of one sentence may differ by


@dataclass(frozen=True)
class Citation:
    """An excerpt ``text == document.text[start:end]`` with the sentences the
    answer quotes from it at ``highlights`` (document offsets, in the order
    the answer quotes them); ``highlight_start/end`` is the first of them."""

    n: int
    source: str
    start: int
    end: int
    text: str
    score: float
    highlight_start: int
    highlight_end: int
    page: int | None = None
    highlights: tuple[tuple[int, int], ...] = ()
    section: str | None = None  # the headings above the answering sentence ("Leave policy › Carry-over")

    def __post_init__(self) -> None:
        if not self.highlights:
            object.__setattr__(self, "highlights", ((self.highlight_start, self.highlight_end),))

    @property
    def place(self) -> str:
        """Where in its document the excerpt stands, for people: its page or
        slide, else its section ("" when the document has neither).

        >>> Citation(1, "deck.pptx", 0, 1, "x", 1.0, 0, 1, page=3).place, Citation(1, "a.pdf", 0, 1, "x", 1.0, 0, 1, page=2).place
        ('slide 3', 'page 2')
        >>> Citation(1, "hr.docx", 0, 1, "x", 1.0, 0, 1, section="Leave policy › Carry-over").place
        'Leave policy › Carry-over'
        """
        if self.page is None:
            return self.section or ""
        return f"{'slide' if self.source.lower().endswith('.pptx') else 'page'} {self.page}"

    def to_dict(self) -> dict:
        data = {
            "n": self.n, "source": self.source, "start": self.start, "end": self.end, "text": self.text,
            "score": round(self.score, 4), "highlight_start": self.highlight_start, "highlight_end": self.highlight_end,
            "highlights": [list(h) for h in self.highlights],
        }
        if self.page is not None:
            data["page"] = self.page
        if self.section:
            data["section"] = self.section
        return data


@dataclass(frozen=True)
class Quote:
    """One sentence of an answer, verbatim, and the citations it rests on
    (several when documents hold the same sentence)."""

    text: str
    citations: tuple[int, ...]

    @property
    def markers(self) -> str:
        """
        >>> Quote("It rained.", (1, 3)).markers
        '[1] [3]'
        """
        return " ".join(f"[{n}]" for n in self.citations)


@dataclass(frozen=True)
class ShortAnswer:
    """The words that answer, as the reader marks them inside the answer's
    first quoted sentence: ``text == document.text[start:end]`` of ``source``."""

    text: str
    source: str
    start: int
    end: int

    def to_dict(self) -> dict:
        return {"text": self.text, "source": self.source, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Answer:
    """What a question gets. ``mode`` says who wrote it: ``extractive``
    (quotes, the default) or ``generated`` (an LLM's sentences, each checked
    against the excerpts it cites; ``dropped`` of them failed the check).
    ``note`` says why a generated answer fell back to quotes. ``grounding``
    holds the numbered excerpts a generator may write from (not part of the JSON).
    ``short_answer`` is the reader's span when it is confident (else None)."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = field(default=())
    quotes: tuple[Quote, ...] = field(default=())
    mode: str = "extractive"
    dropped: int = 0
    note: str = ""
    grounding: tuple[Citation, ...] = field(default=(), compare=False, repr=False)
    short_answer: ShortAnswer | None = None

    def sentences(self) -> tuple[Quote, ...]:
        """The quoted sentences in answer order (for an answer made without
        ``quotes``: each citation's first highlight)."""
        if self.quotes or self.abstained:
            return self.quotes
        return tuple(Quote(c.text[c.highlight_start - c.start : c.highlight_end - c.start], (c.n,))
                     for c in self.citations)

    def to_dict(self) -> dict:
        data = {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "mode": self.mode,
            "short_answer": self.short_answer.to_dict() if self.short_answer else None,
        }
        if self.mode == "generated" or self.dropped:
            data["dropped"] = self.dropped
        if self.note:
            data["note"] = self.note
        return data
