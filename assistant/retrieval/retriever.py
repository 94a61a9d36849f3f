"""Hybrid retrieval: FAISS and BM25 find chunks, then every sentence in the
best chunks is scored as a possible answer.

A chunk's score is its cosine similarity to the question plus the share of
the question's (IDF-weighted) terms it contains, so exact names and numbers
count as much as paraphrase. A sentence's score adds its own similarity and
term coverage, the score of the chunk around it, and whether it carries the
kind of information asked for (a date for "when", words said for "what did
X tell Y").
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from assistant.params import ANSWER_TYPES, FEATURES, Weights
from assistant.retrieval.lexicon import QUESTION_WORDS
from assistant.retrieval.query import Query, matches_type, written_names
from assistant.retrieval.scope import Scope, ScopeChunks
from assistant.retrieval.terms import TermResolver, acronym_in
from index.embedding.base import Embedder
from index.engines.base import contains, top
from index.storage.builds import Index
from index.storage.lexical import tokenize

log = logging.getLogger(__name__)


RANKED_CHUNKS = 20  # how many of the candidate chunks ``Retriever.search`` returns


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk: where it stands and how it scored."""

    chunk: int
    source: str
    start: int
    end: int
    score: float
    dense: float
    coverage: float


@dataclass(frozen=True)
class SentenceHit(Hit):
    """A sentence that may answer the question; ``chunk`` is the best chunk
    holding it, ``holds_answer_type`` whether it holds the answer type asked for."""

    sentence: int = -1
    holds_answer_type: bool = False
    features: tuple[float, ...] = ()  # the values of FEATURES it was scored on


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, weights: Weights) -> None:
        self.index = index
        self.embedder = embedder
        self.weights = weights
        self.terms = TermResolver(index.sentence_lexical, index.sentence_texts)
        self.scopes = ScopeChunks(index.doc_ids, lambda: index.tables.chunk_doc)

    def idf(self, token: str) -> float:
        return self.index.sentence_lexical.idf(token)

    def _coverage(self, lexical, rows: np.ndarray, weighted_terms: list[tuple[tuple[str, ...], float]],
                  total: float) -> np.ndarray:
        """Share of the question's term weight each of ``rows`` holds."""
        covered = np.zeros(len(rows), dtype=np.float32)
        if total <= 0:
            return covered
        for terms, weight in weighted_terms:
            covered += weight * self._holds(lexical, terms, rows)
        return covered / total

    def _window_coverage(self, rows: np.ndarray, weighted: list[tuple[tuple[str, ...], float]], total: float) -> np.ndarray:
        """Term coverage of each sentence read together with the sentences just
        before it in its paragraph, where "He stated ..." finds its "Singh"."""
        t = self.index.tables
        window = []
        for back in range(1, self.weights.window + 1):
            earlier = np.maximum(rows - back, 0)
            same = (rows >= back) & (t.sent_para[earlier] == t.sent_para[rows]) & (t.sent_doc[earlier] == t.sent_doc[rows])
            window.append((earlier, same))
        covered = np.zeros(len(rows), dtype=np.float32)
        if total <= 0:
            return covered
        lexical = self.index.sentence_lexical
        # Each term's postings are read once for the rows and their windows together.
        asked = np.concatenate([rows, *(earlier for earlier, _ in window)])
        for terms, weight in weighted:
            held = self._holds(lexical, terms, asked).reshape(len(window) + 1, len(rows))
            found = held[0].copy()
            for (_, same), earlier_held in zip(window, held[1:]):
                found |= earlier_held & same
            covered += weight * found
        return covered / total

    def _searched(self, groups: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """The terms BM25 searches for, one tuple per question term: the term
        and its derived forms ("malaysian" for "malaysia"), or what repairs
        it (a spelling, a split compound). Not the other parts of the names
        it belongs to: they count for coverage ("Rajnath" for "Singh"), but
        as query terms they would rank passages on every name that shares a
        word with it."""
        searched: list[tuple[str, ...]] = []
        for group in groups:
            head = group[0]
            if self.index.sentence_lexical.document_frequency(head):
                searched.append((head, *self.terms.extensions(head)))
            else:
                searched.append(tuple(group))
        return searched

    def _bm25_share(self, searched: list[tuple[str, ...]], ids: np.ndarray) -> np.ndarray:
        """Each chunk's BM25 score as a share of the most any chunk could
        score: an absolute scale, the same whatever else is a candidate or
        in scope. A question term counts once, by the best of its forms a
        chunk holds, against its rarest form saturated: a term's derived
        forms ("publicist" for "public") are alternatives, not more of the
        question, and counting every one in the ceiling shrank every share
        (and BM25's say) on a large corpus's vocabulary."""
        lexical = self.index.chunk_lexical
        share = np.zeros(len(ids))
        ceiling = 0.0
        for forms in searched:
            known = [t for t in forms if lexical.document_frequency(t)]
            if not known:
                continue
            ceiling += (lexical.k1 + 1) * max(lexical.idf(t) for t in known)
            share += np.max(np.vstack([lexical.scores_at([t], ids) for t in known]), axis=0)
        return share / ceiling if ceiling > 0 else share

    @staticmethod
    def _holds(lexical, terms: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
        """For each of ``rows``, does it hold any of ``terms``? Binary search
        in each term's (sorted) postings, read once per call: no Python work
        per posting, whatever the term's frequency."""
        found = np.zeros(len(rows), dtype=bool)
        for term in terms:
            found |= contains(lexical.postings(term), rows)
        return found

    def search(self, query: Query, query_vector: np.ndarray | None = None, scope: Scope | None = None,
               asking_vector: np.ndarray | None = None,
               weights: Weights | None = None) -> tuple[list[Hit], list[SentenceHit], list[str]]:
        """The best ``RANKED_CHUNKS`` chunks, ranked, ranked candidate sentences, and the question's
        topical terms that no document uses (typos and acronyms resolved).
        With ``scope``, only chunks of the documents in it are searched.
        ``query_vector`` and ``asking_vector`` (of ``query.asking``) are
        embedded here when not given. ``weights`` replace the retriever's
        for this search (the reader's, ``Params.ranking_weights``)."""
        w = weights or self.weights
        ix = self.index
        if query_vector is None:
            query_vector = self.embedder.encode([query.search_text])[0]
        if not (query.asking and w.asking):
            asking_vector = None
        elif asking_vector is None:
            asking_vector = self.embedder.encode([query.asking])[0]
        groups, unknown = self.terms.resolve(query.tokens, written_names(query.search_text))
        topical = [g for g in groups if g[0] not in QUESTION_STEMS]
        unknown = [t for t in unknown if t not in QUESTION_STEMS]
        weighted = [(g, max(self.idf(t) for t in g)) for g in topical]
        # Words the documents never use still count against coverage: a
        # question about something absent should look poorly covered.
        total = sum(wt for _, wt in weighted) + sum(
            math.log(1 + (ix.sentence_count + 0.5) / 0.5) for _ in unknown
        )

        within = self.scopes.restriction(scope) if scope is not None else None
        engine = ix.engine
        k = min(w.dense_candidates, ix.chunk_count if within is None else len(within.chunks))
        candidates = set(engine.nearest_chunks(np.asarray(query_vector, dtype=np.float32), k, within).tolist())
        searched = self._searched(topical)  # what BM25 searches, here and below
        if topical:
            flat = list(dict.fromkeys(t for g in searched for t in g))
            candidates.update(engine.lexical_chunks(flat, w.lexical_candidates, within).tolist())
        ids = np.fromiter(sorted(candidates), dtype=np.int64)
        dense = ix.chunk_vectors[ids] @ query_vector
        chunk_coverage = self._coverage(ix.chunk_lexical, ids, weighted, total)
        scores = dense + w.chunk_coverage * chunk_coverage
        # A chunk's standing, which weighs the document an answer comes from
        # (not which of its sentences are quoted): how strongly each retriever
        # ranks it, its dense similarity and its BM25 share. Not its coverage:
        # BM25 counts the same words, with their weights and saturation.
        standing = dense.copy()
        if w.anchor and w.bm25 and topical:
            standing = standing + w.bm25 * self._bm25_share(searched, ids)
        # The best chunks only: sentences are read from the first few, and a
        # caller looking further than this is looking at noise.
        order = top(scores, max(w.chunks_for_sentences, RANKED_CHUNKS))
        ranked = len(order)
        read = order[: w.chunks_for_sentences].tolist()
        if w.anchor and w.standing_chunks:
            read += [o for o in top(standing, w.standing_chunks).tolist() if o not in read]
            placed = set(order.tolist())
            order = np.concatenate([order, np.array([o for o in read if o not in placed], dtype=order.dtype)])
        t = ix.tables
        # Only the candidates' rows: the tables may hold millions.
        first, last = t.chunk_first[ids[order]], t.chunk_last[ids[order]]
        docs, starts, ends = t.sent_doc[first].tolist(), t.sent_start[first].tolist(), t.sent_end[last].tolist()
        hits = [
            Hit(
                chunk=int(ids[o]), source=ix.doc_ids[docs[i]], start=starts[i], end=ends[i],
                score=float(scores[o]), dense=float(dense[o]), coverage=float(chunk_coverage[o]),
            )
            for i, o in enumerate(order.tolist())
        ]
        at = {o: i for i, o in enumerate(order.tolist())}
        best_texts = [ix.chunk_text(h.chunk) for h in hits[: w.chunks_for_sentences]] if unknown else []
        unknown = [u for u in unknown if not acronym_in(u, query.search_text, best_texts)]
        sentences = self._sentences(query, query_vector, asking_vector, hits, [hits[at[o]] for o in read], weighted,
                                    total, standing[order].tolist(), w)
        return hits[:ranked], sentences, unknown

    def _sentences(self, query: Query, query_vector, asking_vector, hits: list[Hit], read: list[Hit], weighted,
                   total, standing: list[float], w: Weights) -> list[SentenceHit]:
        """``read``'s sentences, scored and ranked by ``w``; ``hits`` (with their
        ``standing``) weigh the document each comes from."""
        ix = self.index
        t = ix.tables
        # A sentence's context is the best chunk holding it or the sentences
        # just before it in its paragraph: the same window its coverage reads.
        owner: dict[int, Hit] = {}
        chunk_rows = np.array([h.chunk for h in read], dtype=np.int64)
        # The tables are read by rows from disk: one read per column and
        # chunk, never one per sentence.
        firsts, lasts = t.chunk_first[chunk_rows].tolist(), t.chunk_last[chunk_rows].tolist()
        for hit, first, last in zip(read, firsts, lasts):
            stop = min(last + w.window, ix.sentence_count - 1) + 1
            para, doc = t.sent_para[first:stop], t.sent_doc[first:stop]
            unquotable = t.sent_heading[first:stop] | t.sent_boilerplate[first:stop]
            at_last = last - first
            reach = at_last
            while reach + 1 < len(para) and para[reach + 1] == para[at_last] and doc[reach + 1] == doc[at_last]:
                reach += 1
            for offset in range(reach + 1):
                s = first + offset
                if not unquotable[offset] and (s not in owner or owner[s].score < hit.score):
                    owner[s] = hit
        if not owner:
            return []
        rows = np.fromiter(owner, dtype=np.int64)
        vectors = ix.sentence_vectors[rows]
        dense = vectors @ query_vector
        if asking_vector is not None:
            dense = (1 - w.asking) * dense + w.asking * (vectors @ asking_vector)
        coverage = self._window_coverage(rows, weighted, total)
        weights = dict(w.sentence)
        weight_vector = np.array([weights.get(name, 0.0) for name in FEATURES])
        asked = query.answer_type if query.answer_type in ANSWER_TYPES else None
        starts, ends = t.sent_start[rows].tolist(), t.sent_end[rows].tolist()
        texts = ix.sentence_texts(rows)
        typed = np.array([matches_type(text, query.answer_type, query.search_text) for text in texts], dtype=bool)
        context = np.array([owner[s].score for s in rows.tolist()])
        features = np.column_stack([
            dense, context, coverage, *((typed & (answer_type == asked)) for answer_type in ANSWER_TYPES),
            (asked is not None) & ~typed & (coverage >= 0.75),
        ]).astype(np.float64)
        scores = features @ weight_vector
        if w.anchor:
            # Which document the answer comes from weighs the chunk ranking: a
            # sentence's document's best chunk, against the best chunk of all.
            # The same for all of a document's sentences: its own order stands.
            best_in_doc: dict[str, float] = {}
            for hit, stands in zip(hits, standing):
                best_in_doc[hit.source] = max(best_in_doc.get(hit.source, -np.inf), stands)
            best = max(standing)
            gap = np.array([best_in_doc[owner[s].source] - best for s in rows.tolist()])
            plain_best = float(scores.max())
            scores = scores + w.anchor * gap
            # It reorders; the best keeps the plain best's score, the scale the abstention threshold was set on.
            scores = scores + (plain_best - float(scores.max()))
        results = [
            SentenceHit(
                sentence=s, chunk=owner[s].chunk, source=owner[s].source, start=starts[i], end=ends[i],
                score=float(scores[i]), dense=float(dense[i]), coverage=float(coverage[i]), holds_answer_type=bool(typed[i]),
                features=tuple(features[i].tolist()),
            )
            for i, s in enumerate(rows.tolist())
        ]
        results.sort(key=lambda r: -r.score)
        return results


def _stems(words) -> frozenset[str]:
    return frozenset(t for w in words for t in tokenize(w))


QUESTION_STEMS = _stems(QUESTION_WORDS)
