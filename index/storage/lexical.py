"""Lexical matching: one tokenizer for index and query, and a BM25 index.

Exact names and numbers ("Dong Jun", "2020") are where dense embeddings are
weakest, so BM25 is kept beside FAISS and fused at query time.
"""

from __future__ import annotations

import logging
import math
import re
from array import array
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

from index.storage.filearray import open_rows
from index.embedding.pool import concat_ranges

log = logging.getLogger(__name__)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves also may might must shall us s t else""".split()
)

# Past forms the stemmer cannot relate to their verb ("met" / "meet").
IRREGULAR = {
    "met": "meet", "said": "say", "told": "tell", "held": "hold", "won": "win", "began": "begin",
    "begun": "begin", "took": "take", "taken": "take", "gave": "give", "given": "give", "made": "make",
    "found": "find", "led": "lead", "left": "leave", "lost": "lose", "paid": "pay", "sent": "send",
    "spent": "spend", "built": "build", "bought": "buy", "brought": "bring", "thought": "think",
    "taught": "teach", "caught": "catch", "fought": "fight", "sought": "seek", "sold": "sell",
    "knew": "know", "known": "know", "grew": "grow", "grown": "grow", "drew": "draw", "drawn": "draw",
    "wrote": "write", "written": "write", "spoke": "speak", "spoken": "speak", "chose": "choose",
    "chosen": "choose", "rose": "rise", "risen": "rise", "fell": "fall", "fallen": "fall", "ran": "run",
    "came": "come", "became": "become", "went": "go", "gone": "go", "saw": "see", "seen": "see",
    "ate": "eat", "eaten": "eat", "flew": "fly", "flown": "fly", "struck": "strike", "stood": "stand",
    "understood": "understand", "kept": "keep", "felt": "feel", "meant": "mean", "heard": "hear",
    "broke": "break", "broken": "break", "drove": "drive", "driven": "drive", "hid": "hide",
    "shot": "shoot", "sang": "sing", "sung": "sing", "swam": "swim", "threw": "throw", "thrown": "throw",
    "wore": "wear", "worn": "wear", "bore": "bear", "born": "bear", "died": "die", "dies": "die",
}

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, possessives folded.

    >>> words("Singh's talks with Dong Jun, 2020!")
    ['singh', 'talks', 'with', 'dong', 'jun', '2020']
    """
    found = _WORD.findall(text.lower())
    if "'" not in text and "’" not in text:  # the common case, kept fast for indexing
        return found
    return [_fold_apostrophe(token) for token in found]


def _fold_apostrophe(token: str) -> str:
    for apostrophe in ("'s", "’s"):
        if token.endswith(apostrophe):
            token = token[: -len(apostrophe)]
    return token.replace("’", "'")


def content_words(text: str) -> list[str]:
    """``words`` without stopwords.

    >>> content_words("What did Singh tell Dong Jun?")
    ['singh', 'tell', 'dong', 'jun']
    """
    return [w for w in words(text) if w not in STOPWORDS]


def tokenize(text: str) -> list[str]:
    """Stemmed content words: the unit BM25 counts.

    >>> tokenize("Singh emphasized the clashes")
    ['singh', 'emphas', 'clash']
    """
    return _stemmer().stemWords([IRREGULAR.get(w, w) for w in content_words(text)])


class LexicalIndex:
    """BM25 over rows of terms, addressed by row number: bm25s's scores and file
    format, built from flat term-id arrays and read back a term at a time.

    A term's postings are ``indices[indptr[t]:indptr[t + 1]]`` (rows,
    ascending) with their precomputed scores at the same places of ``data``
    (a CSC matrix, as bm25s stores it). Loading reads the vocabulary and
    ``indptr`` and nothing else, without importing bm25s (or scipy):
    a question's terms' postings are read when asked for.
    """

    def __init__(self, vocabulary: dict[str, int], indptr: np.ndarray, indices, data, size: int,
                 params: dict) -> None:
        self._vocabulary = vocabulary
        self._indptr = indptr
        self._indices = indices  # an array, or a FileArray once loaded
        self._data = data
        self.size = size
        self._params = params

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> "LexicalIndex":
        """BM25 over rows given as token lists (small inputs, tests)."""
        vocabulary: dict[str, int] = {}
        ids = [vocabulary.setdefault(t, len(vocabulary)) for tokens in token_lists for t in tokens]
        rows = np.repeat(np.arange(len(token_lists)), [len(tokens) for tokens in token_lists])
        return cls.from_ids([(np.array(ids, dtype=np.int64), rows)], len(token_lists), vocabulary)

    @classmethod
    def from_ids(cls, blocks: Iterable[tuple[np.ndarray, np.ndarray]], size: int, vocabulary: dict[str, int],
                 k1: float = 1.5, b: float = 0.75) -> "LexicalIndex":
        """BM25 over ``size`` rows from ``(term ids, rows)`` array pairs, one
        entry per token occurrence; a row's tokens all come in one block.

        What bm25s computes (Lucene's variant), but from flat arrays a block
        at a time instead of Python lists: a million-chunk build holds one
        block's tokens and one entry per distinct (row, term), not tens of
        millions of objects. Terms of ``vocabulary`` no row holds are left out.
        """
        import scipy.sparse

        width = max(len(vocabulary), 1)
        lengths = np.zeros(size, dtype=np.int64)
        rows_, terms_, counts_ = [], [], []
        for ids, rows in blocks:
            ids, rows = np.asarray(ids, dtype=np.int64), np.asarray(rows, dtype=np.int64)
            lengths += np.bincount(rows, minlength=size)
            pairs, tf = np.unique(rows * width + ids, return_counts=True)  # by row, then term
            rows_.append((pairs // width).astype(np.int32))
            terms_.append((pairs % width).astype(np.int32))
            counts_.append(tf.astype(np.int32))
        row = np.concatenate(rows_) if rows_ else np.zeros(0, dtype=np.int32)
        term = np.concatenate(terms_) if terms_ else np.zeros(0, dtype=np.int32)
        tf = np.concatenate(counts_) if counts_ else np.zeros(0, dtype=np.int32)
        del rows_, terms_, counts_
        df = np.bincount(term, minlength=width)
        held = df > 0
        new_id = (np.cumsum(held) - 1).astype(np.int32)
        # As bm25s: the IDF is stored as float32 before it multiplies.
        idf = np.log(1 + (size - df + 0.5) / (df + 0.5)).astype(np.float32)
        average = lengths.mean() if lengths.sum() else 1.0
        data = (idf[term] * (tf / (k1 * ((1 - b) + b * lengths[row] / average) + tf))).astype(np.float32)
        del tf
        # Rows arrive ascending, and scipy's conversion is a stable counting
        # sort: every term's postings come out ascending without a sort.
        matrix = scipy.sparse.csc_matrix((data, (row, new_id[term])), shape=(size, int(held.sum())))
        return cls(
            {t: int(new_id[i]) for t, i in vocabulary.items() if held[i]}, matrix.indptr.astype(np.int64),
            matrix.indices.astype(np.int32, copy=False), matrix.data.astype(np.float32, copy=False), size,
            {"k1": k1, "b": b, "delta": 0.5, "method": "lucene", "idf_method": "lucene", "dtype": "float32",
             "int_dtype": "int32", "num_docs": size, "version": "0.3.16", "backend": "numpy"},
        )

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every row for the query (zeros when nothing matches):
        the sum of each query term's precomputed scores over its postings,
        as bm25s computes it, reading only those terms' postings."""
        scores = np.zeros(self.size, dtype=np.float32)
        for token in query_tokens:
            start, end = self._span(token)
            if start < end:
                # A term's postings name each row once, so a buffered add is exact.
                scores[self._indices[start:end]] += self._data[start:end]
        return scores

    def scores_at(self, query_tokens: list[str], rows: np.ndarray) -> np.ndarray:
        """BM25 scores of ``rows`` only (``scores(query_tokens)[rows]``), by
        binary search in each term's postings: no array over every row.

        >>> index = LexicalIndex.build([["gas", "price"], ["rain"], ["gas"]])
        >>> bool(np.allclose(index.scores_at(["gas", "rain"], np.array([2, 1])), index.scores(["gas", "rain"])[[2, 1]]))
        True
        """
        rows = np.asarray(rows, dtype=np.int64)
        scores = np.zeros(len(rows), dtype=np.float32)
        for token in dict.fromkeys(query_tokens):
            start, end = self._span(token)
            if start == end:
                continue
            postings = np.asarray(self._indices[start:end])
            at = np.minimum(np.searchsorted(postings, rows), len(postings) - 1)
            held = postings[at] == rows
            scores[held] += np.asarray(self._data[start:end])[at[held]]
        return scores

    def idf(self, token: str) -> float:
        """BM25's inverse document frequency of ``token`` (Lucene's, as bm25s stores it), in double precision.

        >>> round(LexicalIndex.build([["gas"], ["rain"], ["gas"]]).idf("rain"), 4)
        0.9808
        """
        df = self.document_frequency(token)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    @property
    def k1(self) -> float:
        """BM25's term-frequency saturation: a term's score never reaches ``(k1 + 1) * idf``."""
        return float(self._params.get("k1", 1.5))

    def _span(self, token: str) -> tuple[int, int]:
        """Where ``token``'s postings lie in the postings file ((0, 0): nowhere)."""
        token_id = self._vocabulary.get(token)
        if token_id is None:
            return 0, 0
        return int(self._indptr[token_id]), int(self._indptr[token_id + 1])

    def term_id(self, token: str) -> int | None:
        """The column of ``token`` (None when no row holds it)."""
        return self._vocabulary.get(token)

    def by_row(self):
        """The weights by row (a ``scipy.sparse.csr_matrix``, rows by term
        ids): row *j*'s term ids and their BM25 weights, what a sparse-vector
        engine holds. Reads every posting: for builds, not questions."""
        import scipy.sparse

        shape = (self.size, len(self._indptr) - 1)
        return scipy.sparse.csc_matrix((np.asarray(self._data), np.asarray(self._indices), self._indptr), shape=shape).tocsr()

    def document_frequency(self, token: str) -> int:
        """How many rows hold ``token`` (from the offsets in memory: no read)."""
        start, end = self._span(token)
        return end - start

    def postings(self, token: str, limit: int | None = None) -> np.ndarray:
        """Row numbers that hold ``token``, ascending (empty when none does);
        only the first ``limit`` of them are read when ``limit`` is given."""
        start, end = self._span(token)
        if limit is not None:
            end = min(end, start + limit)
        if start == end:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self._indices[start:end])

    @property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(t for t in self._vocabulary if t)

    def save(self, path: Path) -> None:
        """bm25s's files (``bm25s.BM25.load`` reads them): the CSC arrays,
        the vocabulary and the parameters."""
        import json

        path.mkdir(parents=True, exist_ok=True)
        for name, values in (("data", self._data), ("indices", self._indices), ("indptr", self._indptr)):
            np.save(path / f"{name}.csc.index.npy", np.asarray(values))
        (path / "vocab.index.json").write_text(json.dumps(self._vocabulary), encoding="utf-8")
        (path / "params.index.json").write_text(json.dumps(self._params, indent=4), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, size: int) -> "LexicalIndex":
        """The inverse of ``save``. Large postings are neither read nor
        mapped: at a million chunks they are most of a gigabyte and a
        question reads only its own terms' (see ``filearray.open_rows``);
        the term offsets are small and stay in memory."""
        import json

        return cls(
            json.loads((path / "vocab.index.json").read_text(encoding="utf-8")),
            np.load(path / "indptr.csc.index.npy"), open_rows(path / "indices.csc.index.npy"),
            open_rows(path / "data.csc.index.npy"), size,
            json.loads((path / "params.index.json").read_text(encoding="utf-8")),
        )


def chunk_and_sentence_indexes(sentence_texts: Iterable[str], titles: list[str], chunk_first: np.ndarray,
                               chunk_last: np.ndarray, chunk_doc: np.ndarray,
                               block: int = 200_000) -> tuple[LexicalIndex, LexicalIndex]:
    """BM25 over chunks and over sentences from one pass of the tokenizer.

    Chunk *j* is sentences ``chunk_first[j]..chunk_last[j]`` of document
    ``chunk_doc[j]`` (whose title is ``titles[chunk_doc[j]]``).

    Terms become ids in one flat array as each sentence is tokenized (4
    bytes a token, not a Python list per sentence); the indexes are computed
    from it ``block`` rows at a time. A chunk is whole sentences, so its terms
    are its title's and its sentences': each sentence is tokenized once, not
    once per chunk.
    """
    vocabulary: dict[str, int] = {}
    term_id = lambda t: vocabulary.setdefault(t, len(vocabulary))  # noqa: E731
    sent_ids, lengths = array("i"), array("q")
    for text in sentence_texts:
        tokens = tokenize(text)
        sent_ids.extend(map(term_id, tokens))
        lengths.append(len(tokens))
    sent_lengths = np.frombuffer(lengths, dtype=np.int64) if lengths else np.zeros(0, dtype=np.int64)
    ids = np.frombuffer(sent_ids, dtype=np.int32) if sent_ids else np.zeros(0, dtype=np.int32)
    offsets = np.r_[0, np.cumsum(sent_lengths)]
    title_ids = [np.array([term_id(t) for t in tokenize(title)], dtype=np.int32) for title in titles]
    title_flat = np.concatenate(title_ids) if title_ids else np.zeros(0, dtype=np.int32)
    title_offsets = np.r_[0, np.cumsum([len(t) for t in title_ids])].astype(np.int64)

    def sentence_blocks():
        for lo in range(0, len(sent_lengths), block):
            hi = min(lo + block, len(sent_lengths))
            yield ids[offsets[lo] : offsets[hi]], np.repeat(np.arange(lo, hi), sent_lengths[lo:hi])

    def chunk_blocks():
        for lo in range(0, len(chunk_first), block):
            chunks = np.arange(lo, min(lo + block, len(chunk_first)))
            body_starts = offsets[chunk_first[chunks]]
            body_counts = offsets[chunk_last[chunks] + 1] - body_starts
            doc = chunk_doc[chunks]
            title_counts = title_offsets[doc + 1] - title_offsets[doc]
            yield (np.concatenate([ids[concat_ranges(body_starts, body_counts)],
                                   title_flat[concat_ranges(title_offsets[doc], title_counts)]]),
                   np.concatenate([np.repeat(chunks, body_counts), np.repeat(chunks, title_counts)]))

    return (LexicalIndex.from_ids(chunk_blocks(), len(chunk_first), vocabulary),
            LexicalIndex.from_ids(sentence_blocks(), len(sent_lengths), vocabulary))
