"""What a broad answer may gather: the section a heading names, and the
scene of the question (one meeting, one person, one place).

An article about three meetings answers "What did Singh discuss with the
Malaysian minister?" from the Malaysian meeting only: a sentence whose
passage names other people or places than the question and the passage
of its best sentence belongs to another scene. A question whose words
make up a heading of the document ("What were the key highlights of the
meeting?" and *Key Highlights From The Meeting*) is answered by that
section's lines, in order.
"""

from __future__ import annotations

import re

import numpy as np

from index.documents.loaders import Document
from index.storage.builds import Index
from index.storage.lexical import tokenize
from index.storage.tables import paragraph_runs

# A capitalized word or acronym that is not the first of its sentence,
# clause or quotation: the words that name people, places and bodies.
_NAME = re.compile(r"(?<![.!?:;\"“‘(]\s)(?<![.!?:;\"“‘(])(?<!^)\b([A-Z][\w’'-]*[A-Za-z])")
_CAPITALIZED = re.compile(r"\b([A-Z][\w’'-]*[A-Za-z])")
HEADING_SHARE = 2 / 3  # of a heading's words the question must hold (and two at least)


def names(text: str, common: frozenset[str] = frozenset()) -> frozenset[str]:
    """The names ``text`` mentions, lower case: capitalized words and
    acronyms that do not open a sentence, clause or quotation, unless the
    document writes them in lower case too (``common``).

    >>> sorted(names("On Monday, Singh met Lao Defence Minister Chansamone in Vientiane."))
    ['chansamone', 'defence', 'lao', 'minister', 'monday', 'singh', 'vientiane']
    >>> sorted(names('He said, "Considering the cost, we wait." Focus on Cooperation: ties.', frozenset({"cooperation"})))
    []
    """
    return frozenset(w for w in (_word(m) for m in _NAME.finditer(text)) if w not in common)


def mentioned(text: str, vocabulary: frozenset[str]) -> frozenset[str]:
    """The names of ``vocabulary`` that ``text`` mentions, wherever they
    stand (a name opening a sentence included).

    >>> sorted(mentioned("Singh met Dong Jun. Considering it, they left.", frozenset({"singh", "dong", "jun"})))
    ['dong', 'jun', 'singh']
    """
    return frozenset(w for w in (_word(m) for m in _CAPITALIZED.finditer(text)) if w in vocabulary)


def _word(match: re.Match) -> str:
    return re.sub(r"['’]s$", "", match.group(1)).lower()


def lower_case_words(text: str) -> frozenset[str]:
    """Words a document writes in lower case somewhere: not names.

    >>> sorted(lower_case_words("Cooperation matters; cooperation helps Singh."))
    ['cooperation', 'helps', 'matters']
    """
    return frozenset(w for w in re.findall(r"\b[a-z][\w’'-]*", text))


def passage_text(index: Index, sentence: int) -> str:
    """The passage around ``sentence``: its paragraph, or, for a paragraph
    of one sentence (news often puts each on its own line), that sentence
    and its neighbours in the document. Read outward from ``sentence``
    (a document's rows are one range, its paragraphs runs within it), so a
    long document costs no more than a short one."""
    t = index.tables
    doc = int(t.sent_doc[sentence])
    low, high = t.sentence_range(doc)
    para = t.sent_para[sentence]
    first = last = sentence
    while first > low and t.sent_para[first - 1] == para:
        first -= 1
    while last + 1 < high and t.sent_para[last + 1] == para:
        last += 1
    if first == last:
        first, last = max(sentence - 1, low), min(sentence + 1, high - 1)
    return index.documents[doc].text[int(t.sent_start[first]) : int(t.sent_end[last])]


_DOCUMENT_NAMES: dict[tuple[str, str, int], frozenset[str]] = {}
_SETTINGS: dict[tuple[str, str, int], frozenset[str]] = {}


def _remembered(cache: dict, doc: Document, read) -> frozenset[str]:
    """``read()``, remembered per document (its id, its source's hash and its
    length) in ``cache``: reading a long document takes a quarter of a
    second a megabyte, once per broad question otherwise."""
    if not doc.sha256:
        return read()
    key = (doc.id, doc.sha256, len(doc.text))
    found = cache.get(key)
    if found is None:
        if len(cache) >= 256:
            cache.clear()
        found = cache[key] = read()
    return found


def document_names(doc: Document) -> frozenset[str]:
    """A document's names: words it capitalizes inside sentences and never
    writes in lower case."""
    return _remembered(_DOCUMENT_NAMES, doc, lambda: names(doc.text, lower_case_words(doc.text)))


SETTING_SHARE = 1 / 4  # of a document's paragraphs that name its setting


def document_setting(index: Index, doc: int, vocabulary: frozenset[str]) -> frozenset[str]:
    """Where all of a document happens ("the ADMM-Plus"): names its title or
    first sentence holds and ``SETTING_SHARE`` of its paragraphs repeat. They
    tell none of its scenes apart; a name the opening lists once among
    others ("counterparts from China, Laos, and Malaysia") still does."""
    return _remembered(_SETTINGS, index.documents[doc], lambda: _setting(index, doc, vocabulary))


def _setting(index: Index, doc: int, vocabulary: frozenset[str]) -> frozenset[str]:
    t = index.tables
    low, high = t.sentence_range(doc)
    if high <= low:
        return frozenset()
    opening = mentioned(opening_text(index, doc), vocabulary)
    if not opening:
        return frozenset()
    text = index.documents[doc].text
    firsts, lasts = paragraph_runs(t.sent_doc[low:high], t.sent_para[low:high])
    named = [mentioned(text[int(t.sent_start[low + a]) : int(t.sent_end[low + b])], opening)
             for a, b in zip(firsts.tolist(), lasts.tolist())]
    return frozenset(n for n in opening if sum(n in p for p in named) >= max(2, SETTING_SHARE * len(named)))


def opening_text(index: Index, doc: int) -> str:
    """A document's title line (when it has one) and its first sentence:
    where news and reports name the event, place and people all of the
    document is about."""
    t = index.tables
    low, high = t.sentence_range(doc)
    end = low
    while end < high and t.sent_heading[end]:
        end += 1
    end = min(end, high - 1)
    if end < low:
        return ""
    return index.documents[doc].text[int(t.sent_start[low]) : int(t.sent_end[end])]


_LABEL = re.compile(r"^[^.:!?\n]{1,60}:\s")  # "Roadmap For Trust Building: ..." (a title-case label)


class Scene:
    """The scene of a question's answer: the names of the question and of
    the best sentence's paragraph. ``belongs(sentence)`` is False for a
    sentence whose paragraph names someone or somewhere else, unless it
    names what sets the question apart (a name of the question that most
    candidates' paragraphs lack: "Dong Jun", not the "Singh" of every one)."""

    def __init__(self, index: Index, question: str, best: int, pool: list[int]) -> None:
        self.index = index
        doc = int(index.tables.sent_doc[best])
        self.vocabulary = document_names(index.documents[doc])
        asked = mentioned(question, self.vocabulary)
        self.known = asked | self._names(best)
        around = [self._names(s) for s in pool]
        setting = document_setting(index, doc, self.vocabulary)
        self.distinctive = frozenset(a for a in asked - setting
                                     if sum(a in n for n in around) < 0.6 * max(1, len(around)))

    def _names(self, sentence: int) -> frozenset[str]:
        return mentioned(_LABEL.sub("", passage_text(self.index, sentence)), self.vocabulary)

    def belongs(self, sentence: int) -> bool:
        said = self._names(sentence)
        return bool(said & self.distinctive) or said <= self.known


def heading_section(index: Index, docs: list[int], question_tokens: set[str]) -> list[int]:
    """The sentence rows of the section whose heading the question names:
    a heading (not a document's title line) at least two of whose words,
    and ``HEADING_SHARE`` of them, the question holds; searched in
    ``docs`` (the documents of the best candidates, best first). Empty
    when no heading matches or its section has fewer than two sentences."""
    t = index.tables
    for doc in docs:
        rows = t.document_rows(doc)[0]
        headings = rows[t.sent_heading[rows]]
        for position, heading in enumerate(headings.tolist()):
            if heading == rows[0]:
                continue  # the title line: its section is the whole document
            words = set(tokenize(index.sentence_text(heading)))
            held = words & question_tokens
            if len(held) < 2 or len(held) < HEADING_SHARE * len(words):
                continue
            end = headings[position + 1] if position + 1 < len(headings) else rows[-1] + 1
            section = np.arange(heading + 1, end)
            section = section[~t.sent_boilerplate[section]]
            if len(section) >= 2:
                return section.tolist()
    return []
