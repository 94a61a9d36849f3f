"""Compose an extractive answer: verbatim sentences, each with a citation
to a readable excerpt around it, or an honest "the documents don't say".

No text is generated: every sentence of an answer is ``document.text[start:end]``
for some sentence the index holds (a hard-wrapped one with its line breaks
read as spaces), so the answer cannot say what the documents do not.
"""

from __future__ import annotations

from assistant.answering.answer import NOT_FOUND, Answer, Citation, Quote, one_line
from assistant.answering.choose import choose_sentences, in_reading_order, named_section, sentence_key
from assistant.answering.excerpts import excerpt_bounds
from assistant.answering.judge import Judgment
from assistant.answering.scenes import Scene
from assistant.params import AnswerSettings
from assistant.retrieval.query import Query, named_terms
from assistant.retrieval.retriever import SentenceHit
from index.storage.builds import Index

TWIN_SLACK = 8


def should_abstain(ranked: list[SentenceHit], unknown: list[str], named: frozenset[str], settings: AnswerSettings) -> bool:
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
    if best.score < settings.min_score or (best.dense < settings.min_dense and best.coverage < 0.5):
        return True
    if any(term in named for term in unknown):
        return True
    return bool(unknown) and best.coverage < settings.min_coverage_with_unknown


def compose(query: Query, index: Index, ranked: list[SentenceHit], unknown: list[str],
            settings: AnswerSettings, judgment: Judgment | None = None,
            items: list[SentenceHit] | None = None) -> Answer:
    """The answer to ``query``: the chosen sentences quoted verbatim, each
    followed by the citation(s) of the excerpt around it. Sentences whose
    excerpts overlap share one citation (one excerpt, several highlights); a
    sentence found in several documents is quoted once and cites each. The
    question as searched keeps a broad answer's further sentences to its
    scene and lets a heading it names answer with its section (``scenes``);
    a broad answer quotes each document's sentences in its order. With the
    reader's ``judgment``, the answer is that the documents don't say when it
    declines, and its order of the candidates is the order they are chosen in.
    A list's ``items`` (``answering/items.py``), when the reader found any,
    are what it quotes, best first while they fit, in the documents' order,
    their citations numbered in that order."""
    question, broad = query.text, query.broad
    named = named_terms(query.search_text)
    if should_abstain(ranked, unknown, named, settings) or (judgment is not None and judgment.declines):
        return Answer(question=question, text=NOT_FOUND, abstained=True)
    if judgment is not None:
        ranked = judgment.ranked
    if items:
        chosen, broad = in_reading_order(_fitting(items, settings)), True
    else:
        chosen = _chosen(query, index, ranked, settings)
    scores = {h.sentence: h.score for h in ranked}
    # Only a sentence about as long as a chosen one can say the same (whitespace aside): read no other.
    lengths = [h.end - h.start for h in chosen]
    twins: dict[str, list[SentenceHit]] = {}
    for hit in ranked:
        if any(abs(hit.end - hit.start - length) <= TWIN_SLACK for length in lengths):
            twins.setdefault(sentence_key(index, hit), []).append(hit)
    excerpts = _Excerpts(index, scores, settings.excerpt_chars)
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
    if broad and not items:  # quoted in reading order, numbered by strength: [1] is the best sentence's excerpt
        # (a list's items are its equals: numbered as they are read)
        rank = {h.sentence: i for i, h in enumerate(ranked)}
        strongest = min(range(len(chosen)), key=lambda i: rank.get(chosen[i].sentence, len(ranked)))
        cited = list(quotes[strongest].citations) + cited
    citations, renumber = excerpts.numbered(cited)
    quotes = [Quote(q.text, tuple(dict.fromkeys(renumber[n] for n in q.citations))) for q in quotes]
    short = judgment.short_answer if judgment is not None else None
    if short is not None and not any(h.source == short.source and h.start <= short.start and short.end <= h.end
                                     for h in chosen):
        short = None  # the words that answer stand in a quoted sentence, or not at all
    return Answer(question=question, text=" ".join(f"{q.text} {q.markers}" for q in quotes), abstained=False,
                  citations=citations, quotes=tuple(quotes),
                  grounding=grounding_excerpts(index, ranked, scores, settings) if settings.grounding_excerpts else (),
                  short_answer=short)


def _chosen(query: Query, index: Index, ranked: list[SentenceHit], settings: AnswerSettings) -> list[SentenceHit]:
    """The sentences an answer quotes, chosen by retrieval's (and the reader's) order."""
    asked, broad = query.search_text, query.broad
    candidates, in_scene = ranked, False
    # A broad answer keeps to the question's scene; one fact may be hedged with a second candidate.
    scene = Scene(index, asked, ranked[0].sentence, [h.sentence for h in ranked[:20]]) if broad else None
    if scene is not None and scene.distinctive:
        candidates, in_scene = [ranked[0]] + [h for h in ranked[1:] if scene.belongs(h.sentence)], True
    listing = broad and query.answer_type == "who" and not in_scene  # people asked for: "Whom did Singh meet?"
    section = named_section(index, candidates, asked, settings) if broad else []
    chosen = section or choose_sentences(index, candidates, settings, broad, in_scene, listing)
    if broad:  # several points read as the document tells them; one fact comes first
        chosen = in_reading_order(chosen)
    return chosen


def _fitting(hits: list[SentenceHit], settings: AnswerSettings) -> list[SentenceHit]:
    """The first of ``hits`` that fit a broad answer's sentences and characters."""
    kept: list[SentenceHit] = []
    used = 0
    for hit in hits:
        if len(kept) < settings.broad_max_sentences and used + hit.end - hit.start <= settings.broad_max_chars:
            kept.append(hit)
            used += hit.end - hit.start
    return kept


def grounding_excerpts(index: Index, ranked: list[SentenceHit], scores: dict[int, float],
                       settings: AnswerSettings) -> tuple[Citation, ...]:
    """The excerpts around the best-ranked sentences, up to
    ``settings.grounding_excerpts`` distinct ones, numbered from 1 in rank
    order: what a generator is given to write from."""
    excerpts = _Excerpts(index, scores, settings.excerpt_chars)
    order: list[int] = []
    for hit in ranked:
        entry = excerpts._live(excerpts.cite(hit))
        if entry not in order:
            order.append(entry)
        if len({excerpts._live(e) for e in order}) >= settings.grounding_excerpts:
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
