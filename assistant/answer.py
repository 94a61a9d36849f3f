"""Compose an extractive answer: verbatim sentences, each with a citation
to a readable excerpt around it, or an honest "the documents don't say".

No text is generated: every sentence of an answer is ``document.text[start:end]``
for some sentence the index holds (a hard-wrapped one with its line breaks
read as spaces), so the answer cannot say what the documents do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

from index.documents.boilerplate import comparable
from index.storage.builds import Index
from index.storage.lexical import tokenize

from . import params
from .excerpts import excerpt_bounds, opens_with_pronoun
from .retrieve import QUESTION_STEMS, SentenceHit
from .scenes import Scene, heading_section

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


def choose_sentences(index: Index, ranked: list[SentenceHit], config: AnswerConfig,
                     broad: bool = False, in_scene: bool = False, listing: bool = False) -> list[SentenceHit]:
    """The best sentence, then others close to it in score while they fit.

    When the best sentence merely sets the scene (it holds the question's
    terms but not the kind of information asked for), the sentence after it
    in its paragraph comes next: that is where news and reference text put
    what was said or decided. A sentence whose text an earlier choice
    already quotes (the same sentence in two documents) is not chosen again;
    ``compose`` cites it beside the first. A sentence that opens with a
    pronoun brings the sentence before it, when that fits, so the answer
    says who "he" is. A ``broad`` question gets up to ``broad_max_sentences``
    within ``broad_max_chars``, chosen for distinct points
    (``distinct_points``).
    """
    if broad:
        points = distinct_points(index, ranked, config, in_scene, listing)
        return _with_referents(index, points, sum(h.end - h.start for h in points), config, config.broad_max_chars)
    chosen: list[SentenceHit] = [ranked[0]]
    used = ranked[0].end - ranked[0].start
    by_sentence = {h.sentence: h for h in ranked}
    best = ranked[0]
    if best.coverage >= config.scene_coverage and not best.typed:
        follower = by_sentence.get(best.sentence + 1)
        t = index.tables
        if follower is not None and t.sent_para[follower.sentence] == t.sent_para[best.sentence] \
                and used + follower.end - follower.start <= config.max_chars:
            chosen.append(follower)
            used += follower.end - follower.start
    quoted = {_key(index, h) for h in chosen}
    for hit in ranked[1:]:
        if len(chosen) >= config.max_sentences or hit.score < best.score - config.margin:
            break
        length = hit.end - hit.start
        if hit in chosen or repeats(_key(index, hit), quoted) or used + length > config.max_chars:
            continue
        chosen.append(hit)
        quoted.add(_key(index, hit))
        used += length
    return _with_referents(index, chosen, used, config, config.max_chars)


def distinct_points(index: Index, ranked: list[SentenceHit], config: AnswerConfig,
                    in_scene: bool = False, listing: bool = False) -> list[SentenceHit]:
    """Maximal marginal relevance: the best sentence, then, among those
    scoring within ``broad_margin`` of it (twice that for a continuation),
    each time the one whose score minus ``diversity`` times its greatest
    cosine similarity to a chosen sentence, plus ``continuation`` when it
    follows a chosen sentence closely in its document, is highest, while
    they fit ``broad_max_chars``. A sentence saying again what one chosen
    says loses to one with a point of its own; the sentences after a
    point ("He called for ...", "They reviewed ...") are where its
    speaker's next points stand. When the candidates are kept to the
    question's scene (``in_scene``), every candidate within twice
    ``scene_reach`` times the margin may join: what else that scene says
    is a point of the answer; without a
    scene, each paragraph gives one point at most. When the best sentence
    holds the kind of information asked for (words said) and two others
    do, only those are points."""
    best = ranked[0]
    t = index.tables

    def follows(hit: SentenceHit, chosen_rows: set[int]) -> bool:
        return any(hit.sentence - k in chosen_rows and t.sent_doc[hit.sentence - k] == t.sent_doc[hit.sentence]
                   for k in range(1, config.continuation_reach + 1))

    margin = config.broad_margin * (config.scene_reach if in_scene else 1.0)
    pool = [h for h in ranked[1:] if h.score >= best.score - 2 * margin]
    if best.typed and sum(h.typed for h in pool) >= 2:
        pool = [h for h in pool if h.typed]  # what was said, not the scene around it, when there is enough of it
    if listing:  # a list ("Whom did Singh meet?"): each passage gives one item
        paragraphs = {(best.source, int(t.sent_para[best.sentence]))}
        kept = []
        for h in pool:
            if (h.source, int(t.sent_para[h.sentence])) not in paragraphs:
                paragraphs.add((h.source, int(t.sent_para[h.sentence])))
                kept.append(h)
        pool = kept
    close = np.array([in_scene or h.score >= best.score - margin for h in pool])
    chosen, used = [best], best.end - best.start
    quoted = {_key(index, best)}
    if not pool:
        return chosen
    vectors = np.asarray(index.sentence_vectors[np.array([best.sentence] + [h.sentence for h in pool])])
    likeness = vectors[1:] @ vectors[0]  # to the chosen sentences so far: the greatest
    available = np.ones(len(pool), dtype=bool)
    scores = np.array([h.score for h in pool])
    carried = {best.sentence}  # the best sentence and the sentences carrying it on
    while len(chosen) < config.broad_max_sentences and available.any():
        after = np.array([follows(h, carried) for h in pool])
        value = np.where(available & (close | after), scores - config.diversity * likeness + config.continuation * after,
                         -np.inf)
        if not np.isfinite(value).any():
            break
        i = int(np.argmax(value))
        available[i] = False
        hit = pool[i]
        if repeats(_key(index, hit), quoted) or used + hit.end - hit.start > config.broad_max_chars:
            continue
        chosen.append(hit)
        quoted.add(_key(index, hit))
        used += hit.end - hit.start
        if after[i]:
            carried.add(hit.sentence)
        likeness = np.maximum(likeness, vectors[1:] @ vectors[1 + i])
    return chosen


def _key(index: Index, hit: SentenceHit) -> str:
    return comparable(index.sentence_text(hit.sentence))


REPEAT_MIN_CHARS = 20  # a shorter text inside another is a coincidence, not a repeat


def repeats(key: str, quoted: set[str]) -> bool:
    """Does a sentence (its ``comparable`` text) say again what one already
    quoted says: the same text, or one holding the other (a heading glued
    to a repeated sentence, a sentence cut differently in a second copy)?

    >>> repeats("thepanthersgaveup308points", {"conclusionthepanthersgaveup308points"})
    True
    >>> repeats("itrained", {"itrainedallday"}), repeats("thepanthersscored", {"thebroncosscored"})
    (False, False)
    """
    if key in quoted:
        return True
    return len(key) >= REPEAT_MIN_CHARS and any(key in other or (len(other) >= REPEAT_MIN_CHARS and other in key)
                                                for other in quoted)


def _with_referents(index: Index, chosen: list[SentenceHit], used: int, config: AnswerConfig,
                    budget: int) -> list[SentenceHit]:
    """``chosen`` with, before each sentence opening with a pronoun, the
    sentence before it in its document (when not already there and it fits)."""
    t = index.tables
    result: list[SentenceHit] = []
    sentences = {h.sentence for h in chosen}
    quoted = {_key(index, h) for h in chosen}
    for hit in chosen:
        previous = hit.sentence - 1
        if (previous >= 0 and previous not in sentences and t.sent_doc[previous] == t.sent_doc[hit.sentence]
                and not t.sent_heading[previous] and not t.sent_boilerplate[previous]
                and opens_with_pronoun(index.sentence_text(hit.sentence))
                and not repeats(comparable(index.sentence_text(previous)), quoted)):
            length = int(t.sent_end[previous] - t.sent_start[previous])
            if used + length <= budget:
                result.append(replace(hit, sentence=previous, start=int(t.sent_start[previous]),
                                      end=int(t.sent_end[previous]), typed=False))
                sentences.add(previous)
                quoted.add(comparable(index.sentence_text(previous)))
                used += length
        result.append(hit)
    return result


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
    section = _named_section(index, candidates, asked, config) if broad and asked else []
    chosen = section or choose_sentences(index, candidates, config, broad, in_scene, listing)
    if broad:  # several points read as the document tells them; one fact comes first
        chosen = in_reading_order(chosen)
    scores = {h.sentence: h.score for h in ranked}
    # Only a sentence about as long as a chosen one can say the same (whitespace aside): read no other.
    lengths = [h.end - h.start for h in chosen]
    twins: dict[str, list[SentenceHit]] = {}
    for hit in ranked:
        if any(abs(hit.end - hit.start - length) <= TWIN_SLACK for length in lengths):
            twins.setdefault(_key(index, hit), []).append(hit)
    excerpts = _Excerpts(index, scores, config.excerpt_chars)
    quotes = []
    for hit in chosen:
        # The same sentence elsewhere in its own document (an abstract said
        # again in a conclusion, a running header) is the same point: cited once.
        doc = index.tables.sent_doc[hit.sentence]
        same_text = [h for h in twins.get(_key(index, hit), [])
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


def in_reading_order(chosen: list[SentenceHit]) -> list[SentenceHit]:
    """The sentences of each document in the document's order, documents in
    the order the answer first quotes them.

    >>> hit = lambda s, src: SentenceHit(chunk=0, source=src, start=s, end=s + 1, score=1.0, dense=1.0, coverage=1.0, sentence=s)
    >>> [h.sentence for h in in_reading_order([hit(9, "a"), hit(2, "b"), hit(4, "a")])]
    [4, 9, 2]
    """
    sources = list(dict.fromkeys(h.source for h in chosen))
    return sorted(chosen, key=lambda h: (sources.index(h.source), h.sentence))


def _named_section(index: Index, ranked: list[SentenceHit], asked: str, config: AnswerConfig) -> list[SentenceHit]:
    """The lines of the section a heading the question names, when one does
    (``scenes.heading_section``): the first sentence of each of its
    paragraphs, then its best-ranked others, while they fit ``broad_max_chars``."""
    words = set(tokenize(asked)) - QUESTION_STEMS
    docs = list(dict.fromkeys(int(index.tables.sent_doc[h.sentence]) for h in ranked[:10]))[:3]
    rows = heading_section(index, docs, words)
    if not rows:
        return []
    t = index.tables
    by_sentence = {h.sentence: h for h in ranked}
    leads = [s for i, s in enumerate(rows) if i == 0 or t.sent_para[s] != t.sent_para[rows[i - 1]]]
    others = sorted((s for s in rows if s not in leads), key=lambda s: -(by_sentence[s].score if s in by_sentence else -9))
    chosen: list[SentenceHit] = []
    used = 0
    for s in leads + others:
        length = int(t.sent_end[s] - t.sent_start[s])
        if used + length > config.broad_max_chars or len(chosen) >= config.broad_max_sentences:
            if s in leads:
                break  # the section's points in order: none after one left out
            continue
        hit = by_sentence.get(s) or SentenceHit(
            chunk=-1, source=index.doc_ids[int(t.sent_doc[s])], start=int(t.sent_start[s]), end=int(t.sent_end[s]),
            score=ranked[0].score, dense=0.0, coverage=0.0, sentence=s)
        chosen.append(hit)
        used += length
    return chosen


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
