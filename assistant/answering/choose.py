"""Which sentences an answer quotes: the best one and those close to it,
or, for a broad question, distinct points (maximal marginal relevance),
the section a heading names, in the document's order; never the same
passage twice. ``compose.compose`` quotes and cites what these choose.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from assistant.answering.excerpts import opens_with_pronoun
from assistant.answering.scenes import heading_section
from assistant.params import AnswerSettings
from assistant.retrieval.retriever import QUESTION_STEMS, SentenceHit
from index.documents.boilerplate import comparable
from index.storage.builds import Index
from index.storage.lexical import tokenize


def choose_sentences(index: Index, ranked: list[SentenceHit], settings: AnswerSettings,
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
        points = distinct_points(index, ranked, settings, in_scene, listing)
        return _with_referents(index, points, sum(h.end - h.start for h in points), settings, settings.broad_max_chars)
    chosen: list[SentenceHit] = [ranked[0]]
    used = ranked[0].end - ranked[0].start
    by_sentence = {h.sentence: h for h in ranked}
    best = ranked[0]
    if best.coverage >= settings.scene_coverage and not best.holds_answer_type:
        follower = by_sentence.get(best.sentence + 1)
        t = index.tables
        if follower is not None and t.sent_para[follower.sentence] == t.sent_para[best.sentence] \
                and used + follower.end - follower.start <= settings.max_chars:
            chosen.append(follower)
            used += follower.end - follower.start
    quoted = {sentence_key(index, h) for h in chosen}
    for hit in ranked[1:]:
        if len(chosen) >= settings.max_sentences or hit.score < best.score - settings.margin:
            break
        length = hit.end - hit.start
        if hit in chosen or repeats(sentence_key(index, hit), quoted) or used + length > settings.max_chars:
            continue
        chosen.append(hit)
        quoted.add(sentence_key(index, hit))
        used += length
    return _with_referents(index, chosen, used, settings, settings.max_chars)


def distinct_points(index: Index, ranked: list[SentenceHit], settings: AnswerSettings,
                    in_scene: bool = False, listing: bool = False) -> list[SentenceHit]:
    """Maximal marginal relevance: the best sentence, then, among those
    scoring within ``margin`` of it (twice that for a continuation),
    each time the one whose score minus ``diversity`` times its greatest
    cosine similarity to a chosen sentence, plus ``continuation`` when it
    follows a chosen sentence closely in its document, is highest, while
    they fit ``broad_max_chars``. A sentence saying again what one chosen
    says loses to one with a point of its own; the sentences after a
    point ("He called for ...", "They reviewed ...") are where its
    speaker's next points stand. When the candidates are kept to the
    question's scene (``in_scene``), every candidate within twice
    ``scene_reach`` times the margin may join: what else that scene says
    is a point of the answer. A ``listing`` answer (people asked for
    without one scene) takes one point per paragraph, from anywhere in
    the pool: a list's items stand below the sentence that sums them up
    ("talks with his counterparts from China, Laos, and Malaysia"). When the best sentence
    holds the kind of information asked for (words said) and two others
    do, only those are points."""
    best = ranked[0]
    t = index.tables

    def follows(hit: SentenceHit, chosen_rows: set[int]) -> bool:
        return any(hit.sentence - k in chosen_rows and t.sent_doc[hit.sentence - k] == t.sent_doc[hit.sentence]
                   for k in range(1, settings.continuation_reach + 1))

    margin = settings.margin * (settings.scene_reach if in_scene else 1.0)
    pool = [h for h in ranked[1:] if h.score >= best.score - 2 * margin]
    if best.holds_answer_type and sum(h.holds_answer_type for h in pool) >= 2:
        pool = [h for h in pool if h.holds_answer_type]  # what was said, not the scene around it, when there is enough of it
    if listing:  # a list ("Whom did Singh meet?"): each passage gives one item
        paragraphs = {(best.source, int(t.sent_para[best.sentence]))}
        kept = []
        for h in pool:
            if (h.source, int(t.sent_para[h.sentence])) not in paragraphs:
                paragraphs.add((h.source, int(t.sent_para[h.sentence])))
                kept.append(h)
        pool = kept
    close = np.array([in_scene or listing or h.score >= best.score - margin for h in pool])
    chosen, used = [best], best.end - best.start
    quoted = {sentence_key(index, best)}
    if not pool:
        return chosen
    vectors = np.asarray(index.sentence_vectors[np.array([best.sentence] + [h.sentence for h in pool])])
    likeness = vectors[1:] @ vectors[0]  # to the chosen sentences so far: the greatest
    available = np.ones(len(pool), dtype=bool)
    scores = np.array([h.score for h in pool])
    carried = {best.sentence}  # the best sentence and the sentences carrying it on
    while len(chosen) < settings.broad_max_sentences and available.any():
        after = np.array([follows(h, carried) for h in pool])
        value = np.where(available & (close | after), scores - settings.diversity * likeness + settings.continuation * after,
                         -np.inf)
        if not np.isfinite(value).any():
            break
        i = int(np.argmax(value))
        available[i] = False
        hit = pool[i]
        if repeats(sentence_key(index, hit), quoted) or used + hit.end - hit.start > settings.broad_max_chars:
            continue
        chosen.append(hit)
        quoted.add(sentence_key(index, hit))
        used += hit.end - hit.start
        if after[i]:
            carried.add(hit.sentence)
        likeness = np.maximum(likeness, vectors[1:] @ vectors[1 + i])
    return chosen


def sentence_key(index: Index, hit: SentenceHit) -> str:
    """A quoted sentence as repeats compare it (``comparable``)."""
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


def _with_referents(index: Index, chosen: list[SentenceHit], used: int, settings: AnswerSettings,
                    budget: int) -> list[SentenceHit]:
    """``chosen`` with, before each sentence opening with a pronoun, the
    sentence before it in its document (when not already there and it fits)."""
    t = index.tables
    result: list[SentenceHit] = []
    sentences = {h.sentence for h in chosen}
    quoted = {sentence_key(index, h) for h in chosen}
    for hit in chosen:
        previous = hit.sentence - 1
        if (previous >= 0 and previous not in sentences and t.sent_doc[previous] == t.sent_doc[hit.sentence]
                and not t.sent_heading[previous] and not t.sent_boilerplate[previous]
                and opens_with_pronoun(index.sentence_text(hit.sentence))
                and not repeats(comparable(index.sentence_text(previous)), quoted)):
            length = int(t.sent_end[previous] - t.sent_start[previous])
            if used + length <= budget:
                result.append(replace(hit, sentence=previous, start=int(t.sent_start[previous]),
                                      end=int(t.sent_end[previous]), holds_answer_type=False))
                sentences.add(previous)
                quoted.add(comparable(index.sentence_text(previous)))
                used += length
        result.append(hit)
    return result


def in_reading_order(chosen: list[SentenceHit]) -> list[SentenceHit]:
    """The sentences of each document in the document's order, documents in
    the order the answer first quotes them.

    >>> hit = lambda s, src: SentenceHit(chunk=0, source=src, start=s, end=s + 1, score=1.0, dense=1.0, coverage=1.0, sentence=s)
    >>> [h.sentence for h in in_reading_order([hit(9, "a"), hit(2, "b"), hit(4, "a")])]
    [4, 9, 2]
    """
    sources = list(dict.fromkeys(h.source for h in chosen))
    return sorted(chosen, key=lambda h: (sources.index(h.source), h.sentence))


def named_section(index: Index, ranked: list[SentenceHit], asked: str, settings: AnswerSettings) -> list[SentenceHit]:
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
        if used + length > settings.broad_max_chars or len(chosen) >= settings.broad_max_sentences:
            if s in leads:
                break  # the section's points in order: none after one left out
            continue
        hit = by_sentence.get(s) or SentenceHit(
            chunk=-1, source=index.doc_ids[int(t.sent_doc[s])], start=int(t.sent_start[s]), end=int(t.sent_end[s]),
            score=ranked[0].score, dense=0.0, coverage=0.0, sentence=s)
        chosen.append(hit)
        used += length
    return chosen
