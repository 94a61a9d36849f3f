"""Boilerplate: the lines a site prints on every page (newsletter sign-ups,
bylines of a wire service, "Share on Facebook", a list of the fifty
states) found by what they are, text repeated across many documents, and
marked so that answers never quote them. They stay in the chunks: they
are part of the page, and a question may still find the page through them.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from index.storage.tables import paragraph_runs

MIN_DOCUMENTS = 5  # a line in fewer documents than this is not boilerplate, whatever the corpus
MIN_SHARE = 0.01  # nor one in fewer than this share of the documents (a list of nominees repeated in a few articles)
MAX_CHARS = 400  # a longer paragraph repeated is a syndicated article's text, not the site's furniture

_NOT_WORD = re.compile(r"[\W_]+")


def comparable(text: str) -> str:
    """Text as two copies of it compare: letters and digits only, lower case
    (a page's layout, a line break or a hyphenated word aside).

    >>> comparable("Non-linear  models\\nwork.") == comparable("Nonlinear models work")
    True
    """
    return _NOT_WORD.sub("", text.lower())


def repeated_paragraphs(sent_doc: np.ndarray, sent_para: np.ndarray, sent_start: np.ndarray, sent_end: np.ndarray,
                        texts: list[str], min_documents: int = MIN_DOCUMENTS, min_share: float = MIN_SHARE) -> np.ndarray:
    """For each sentence, is its paragraph boilerplate: a paragraph of at
    most ``MAX_CHARS`` whose text (``comparable``) stands in at least
    ``min_documents`` documents and ``min_share`` of them all?

    >>> texts = [f"Story {i} is here.\\n\\nSign up for our newsletter" for i in range(5)] + ["Sign up today."]
    >>> doc = np.repeat(np.arange(6), [2, 2, 2, 2, 2, 1])
    >>> para = np.array([0, 1] * 5 + [0])
    >>> start = np.array([0, 20] * 5 + [0]); end = np.array([18, 46] * 5 + [14])
    >>> repeated_paragraphs(doc, para, start, end, texts).astype(int).tolist()
    [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    """
    count = len(sent_doc)
    flags = np.zeros(count, dtype=bool)
    if count == 0:
        return flags
    documents = int(sent_doc.max()) + 1
    threshold = max(min_documents, min_share * documents)
    if documents < threshold:
        return flags
    firsts, lasts = paragraph_runs(sent_doc, sent_para)
    seen: dict[str, set[int]] = defaultdict(set)
    keys: list[str | None] = []
    for first, last in zip(firsts.tolist(), lasts.tolist()):
        start, end = int(sent_start[first]), int(sent_end[last])
        if end - start > MAX_CHARS:
            keys.append(None)
            continue
        key = comparable(texts[int(sent_doc[first])][start:end])
        keys.append(key or None)
        if key:
            seen[key].add(int(sent_doc[first]))
    for first, last, repeated in zip(firsts.tolist(), lasts.tolist(), keys):
        if repeated is not None and len(seen[repeated]) >= threshold:
            flags[first : last + 1] = True
    return flags
