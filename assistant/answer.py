"""Compose an extractive answer: verbatim sentences, each with a citation
to a readable excerpt around it, or an honest "the documents don't say".

No text is generated: every sentence of an answer is ``document.text[start:end]``
for some sentence the index holds, so the answer cannot say what the
documents do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from index.store import Index

from .retrieve import SentenceHit

NOT_FOUND = "The documents don't say."


@dataclass(frozen=True)
class Citation:
    """An excerpt ``text == document.text[start:end]`` with the answering
    sentence at ``[highlight_start, highlight_end)`` (document offsets)."""

    n: int
    source: str
    start: int
    end: int
    text: str
    score: float
    highlight_start: int
    highlight_end: int
    page: int | None = None

    def to_dict(self) -> dict:
        data = {
            "n": self.n, "source": self.source, "start": self.start, "end": self.end, "text": self.text,
            "score": round(self.score, 4), "highlight_start": self.highlight_start, "highlight_end": self.highlight_end,
        }
        if self.page is not None:
            data["page"] = self.page
        return data


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
        }


@dataclass(frozen=True)
class AnswerConfig:
    max_sentences: int = 3
    max_chars: int = 400  # the answer, without markers
    margin: float = 0.3  # a further sentence must score this close to the best
    scene_coverage: float = 0.7
    excerpt_chars: int = 560
    min_score: float = 0.65  # below this the best sentence does not answer
    min_dense: float = 0.25
    min_coverage_with_unknown: float = 0.2


def excerpt_bounds(index: Index, sentence: int, ranked: dict[int, float], budget: int) -> tuple[int, int]:
    """First and last sentence of the excerpt around ``sentence``: neighbours in
    its paragraph, better-scoring side first, while the excerpt fits ``budget``."""
    t = index.tables
    doc, para = t.sent_doc[sentence], t.sent_para[sentence]
    first = last = sentence

    def usable(s: int) -> bool:
        return 0 <= s < index.sentence_count and t.sent_doc[s] == doc and t.sent_para[s] == para

    while True:
        options = [s for s in (first - 1, last + 1) if usable(s)]
        options.sort(key=lambda s: -ranked.get(s, -1.0))
        grown = False
        for s in options:
            lo, hi = min(first, s), max(last, s)
            if t.sent_end[hi] - t.sent_start[lo] <= budget:
                first, last, grown = lo, hi, True
                break
        if not grown:
            return first, last


def choose_sentences(index: Index, ranked: list[SentenceHit], config: AnswerConfig) -> list[SentenceHit]:
    """The best sentence, then others close to it in score while they fit.

    When the best sentence merely sets the scene (it holds the question's
    terms but not the kind of information asked for), the sentence after it
    in its paragraph comes next: that is where news and reference text put
    what was said or decided.
    """
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
    for hit in ranked[1:]:
        if len(chosen) >= config.max_sentences or hit.score < best.score - config.margin:
            break
        length = hit.end - hit.start
        if hit in chosen or used + length > config.max_chars:
            continue
        chosen.append(hit)
        used += length
    return chosen


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
            config: AnswerConfig = AnswerConfig()) -> Answer:
    if should_abstain(ranked, unknown, named, config):
        return Answer(question=question, text=NOT_FOUND, abstained=True)
    chosen = choose_sentences(index, ranked, config)
    scores = {h.sentence: h.score for h in ranked}
    t = index.tables
    citations: list[Citation] = []
    parts: list[str] = []
    for hit in chosen:
        first, last = excerpt_bounds(index, hit.sentence, scores, config.excerpt_chars)
        doc = index.documents[t.sent_doc[hit.sentence]]
        start, end = int(t.sent_start[first]), int(t.sent_end[last])
        citation = Citation(
            n=len(citations) + 1, source=doc.id, start=start, end=end, text=doc.text[start:end],
            score=hit.score, highlight_start=hit.start, highlight_end=hit.end, page=doc.page_at(hit.start),
        )
        citations.append(citation)
        parts.append(f"{doc.text[hit.start:hit.end]} [{citation.n}]")
    return Answer(question=question, text=" ".join(parts), abstained=False, citations=tuple(citations))
