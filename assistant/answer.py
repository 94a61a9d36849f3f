"""Compose an extractive answer: verbatim sentences, each with a citation
to a readable excerpt around it, or an honest "the documents don't say".

No text is generated: every sentence of an answer is ``document.text[start:end]``
for some sentence the index holds (a hard-wrapped one with its line breaks
read as spaces), so the answer cannot say what the documents do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


from index.storage.builds import Index

from . import params
from .choose import choose_sentences, in_reading_order, named_section, sentence_key
from .excerpts import excerpt_bounds
from .retrieve import SentenceHit
from .scenes import Scene

NOT_FOUND = "The documents don't say."
_LINE_BREAK = re.compile(r"[ \t]*\n\s*")
TWIN_SLACK = 8


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
class Answer:
    """What a question gets. ``mode`` says who wrote it: ``extractive``
    (quotes, the default) or ``generated`` (an LLM's sentences, each checked
    against the excerpts it cites; ``dropped`` of them failed the check).
    ``note`` says why a generated answer fell back to quotes. ``context``
    holds the numbered excerpts a generator may use (not part of the JSON)."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = field(default=())
    quotes: tuple[Quote, ...] = field(default=())
    mode: str = "extractive"
    dropped: int = 0
    note: str = ""
    context: tuple[Citation, ...] = field(default=(), compare=False, repr=False)

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
        }
        if self.mode == "generated" or self.dropped:
            data["dropped"] = self.dropped
        if self.note:
            data["note"] = self.note
        return data


@dataclass(frozen=True)
class AnswerConfig:
    max_sentences: int = 3
    max_chars: int = 400  # the answer, without markers
    margin: float = field(default_factory=lambda: params.load().margin)  # a further sentence: this close to the best
    scene_coverage: float = 0.7
    excerpt_chars: int = 560
    min_score: float = field(default_factory=lambda: params.load().min_score)  # below: the best does not answer
    min_dense: float = 0.25
    min_coverage_with_unknown: float = 0.2
    # Broad questions ("What did Singh discuss?"): more, and distinct, points.
    broad_max_sentences: int = 5
    broad_max_chars: int = 700
    broad_margin: float = field(default_factory=lambda: params.load().margin)
    diversity: float = 0.3  # how much a sentence's likeness to those chosen counts against it (MMR)
    continuation: float = 0.3  # the bonus of a sentence that follows a chosen one (it carries the point on)
    continuation_reach: int = 2  # how many sentences after a chosen one count as its continuation
    context_excerpts: int = 0  # excerpts kept on the answer for a generator (0: none, no LLM configured)
    scene_reach: float = 2.0  # how much wider a broad answer's margins are once kept to the question's scene


def should_abstain(ranked: list[SentenceHit], unknown: list[str], named: frozenset[str], config: AnswerConfig) -> bool:
    """True when the best sentence does not answer the question.

    ``unknown`` are the question's topical terms that no document uses (typos
    already corrected); ``named`` the question's names and figures. A name
    the documents never mention means they cannot say anything about it; a
    rarer paraphrase ("want" for "desire") only counts when the rest of the
    question is poorly covered too.
    """
    if not ranked:
        return True
    best = ranked[0]
    if best.score < config.min_score or (best.dense < config.min_dense and best.coverage < 0.5):
        return True
    if any(term in named for term in unknown):
        return True
    return bool(unknown) and best.coverage < config.min_coverage_with_unknown


def compose(question: str, index: Index, ranked: list[SentenceHit], unknown: list[str], named: frozenset[str],
            config: AnswerConfig = AnswerConfig(), broad: bool = False, asked: str = "", kind: str = "") -> Answer:
    """The answer: the chosen sentences quoted verbatim, each followed by the
    citation(s) of the excerpt around it. Sentences whose excerpts overlap
    share one citation (one excerpt, several highlights); a sentence found
    in several documents is quoted once and cites each. ``asked`` (the
    question as searched) keeps further sentences to the question's scene
    and lets a heading it names answer a broad question with its section
    (``scenes``); a broad answer quotes each document's sentences in its order."""
    if should_abstain(ranked, unknown, named, config):
        return Answer(question=question, text=NOT_FOUND, abstained=True)
    candidates, in_scene, listing = ranked, False, False
    if asked:
        # A broad answer keeps to the question's scene; one fact may be hedged with a second candidate.
        scene = Scene(index, asked, ranked[0].sentence, [h.sentence for h in ranked[:20]]) if broad else None
        if scene is not None and scene.distinctive:
            candidates, in_scene = [ranked[0]] + [h for h in ranked[1:] if scene.belongs(h.sentence)], True
        listing = broad and kind == "who" and not in_scene  # people asked for: "Whom did Singh meet?"
    section = named_section(index, candidates, asked, config) if broad and asked else []
    chosen = section or choose_sentences(index, candidates, config, broad, in_scene, listing)
    if broad:  # several points read as the document tells them; one fact comes first
        chosen = in_reading_order(chosen)
    scores = {h.sentence: h.score for h in ranked}
    # Only a sentence about as long as a chosen one can say the same (whitespace aside): read no other.
    lengths = [h.end - h.start for h in chosen]
    twins: dict[str, list[SentenceHit]] = {}
    for hit in ranked:
        if any(abs(hit.end - hit.start - length) <= TWIN_SLACK for length in lengths):
            twins.setdefault(sentence_key(index, hit), []).append(hit)
    excerpts = _Excerpts(index, scores, config.excerpt_chars)
    quotes = []
    for hit in chosen:
        # The same sentence elsewhere in its own document (an abstract said
        # again in a conclusion, a running header) is the same point: cited once.
        doc = index.tables.sent_doc[hit.sentence]
        same_text = [h for h in twins.get(sentence_key(index, hit), [])
                     if h.sentence != hit.sentence and index.tables.sent_doc[h.sentence] != doc]
        ns = [excerpts.cite(hit)] + [excerpts.cite(h) for h in same_text]
        # A hard-wrapped sentence is quoted on one line: its text, line breaks read as spaces.
        quotes.append(Quote(one_line(index.sentence_text(hit.sentence)), tuple(dict.fromkeys(ns))))
    cited = [n for q in quotes for n in q.citations]
    if broad:  # quoted in reading order, numbered by strength: [1] is the best sentence's excerpt
        rank = {h.sentence: i for i, h in enumerate(ranked)}
        strongest = min(range(len(chosen)), key=lambda i: rank.get(chosen[i].sentence, len(ranked)))
        cited = list(quotes[strongest].citations) + cited
    citations, renumber = excerpts.numbered(cited)
    quotes = [Quote(q.text, tuple(dict.fromkeys(renumber[n] for n in q.citations))) for q in quotes]
    return Answer(question=question, text=" ".join(f"{q.text} {q.markers}" for q in quotes), abstained=False,
                  citations=citations, quotes=tuple(quotes),
                  context=context_excerpts(index, ranked, scores, config) if config.context_excerpts else ())


def context_excerpts(index: Index, ranked: list[SentenceHit], scores: dict[int, float],
                     config: AnswerConfig) -> tuple[Citation, ...]:
    """The excerpts around the best-ranked sentences, up to
    ``config.context_excerpts`` distinct ones, numbered from 1 in rank
    order: what a generator is given to write from."""
    excerpts = _Excerpts(index, scores, config.excerpt_chars)
    order: list[int] = []
    for hit in ranked:
        entry = excerpts._live(excerpts.cite(hit))
        if entry not in order:
            order.append(entry)
        if len({excerpts._live(e) for e in order}) >= config.context_excerpts:
            break
    citations, _ = excerpts.numbered(order)
    return citations


class _Excerpts:
    """Excerpts being gathered for one answer; overlapping ones merge."""

    def __init__(self, index: Index, scores: dict[int, float], budget: int) -> None:
        self.index, self.scores, self.budget = index, scores, budget
        # Each entry: [doc row, first sentence, last sentence, best score, highlighted sentences in order].
        self.entries: list[list] = []
        self.merged_into: dict[int, int] = {}  # an entry that grew into another's range now lives there

    def cite(self, hit: SentenceHit) -> int:
        """The entry that will cite ``hit``'s sentence (merging as needed)."""
        first, last = excerpt_bounds(self.index, hit.sentence, self.scores, self.budget)
        doc = int(self.index.tables.sent_doc[hit.sentence])
        self.entries.append([doc, first, last, hit.score, [hit.sentence]])
        number = len(self.entries) - 1
        for other in range(number):
            if other in self.merged_into:
                continue
            a, b = self.entries[other], self.entries[number]
            if a[0] == b[0] and b[1] <= a[2] and a[1] <= b[2]:
                a[1], a[2], a[3] = min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])
                a[4].extend(s for s in b[4] if s not in a[4])
                self.merged_into[number] = other
                number = other
        return number

    def _live(self, entry: int) -> int:
        while entry in self.merged_into:
            entry = self.merged_into[entry]
        return entry

    def numbered(self, order: list[int]) -> tuple[tuple[Citation, ...], dict[int, int]]:
        """Citations numbered from 1 in the order the answer first cites them."""
        t = self.index.tables
        live = {entry: n for n, entry in enumerate(dict.fromkeys(self._live(e) for e in order), 1)}
        renumber = {entry: live[self._live(entry)] for entry in order}
        citations = []
        for entry, n in live.items():
            doc_row, first, last, score, sentences = self.entries[entry]
            doc = self.index.documents[doc_row]
            start, end = int(t.sent_start[first]), int(t.sent_end[last])
            highlights = tuple((int(t.sent_start[s]), int(t.sent_end[s])) for s in sentences)
            citations.append(Citation(
                n=n, source=doc.id, start=start, end=end, text=doc.text[start:end], score=score,
                highlight_start=highlights[0][0], highlight_end=highlights[0][1], page=doc.page_at(highlights[0][0]),
                highlights=highlights, section=doc.section_at(highlights[0][0]) or None,
            ))
        return tuple(citations), renumber
