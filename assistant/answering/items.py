"""List answers judged by the reader: "Who did Singh meet?" is answered by
every sentence that names someone he met, and "Who did Singh meet besides
Dong Jun?" by those that name someone else.

The reader reads the question (without its "besides X" clause) against
retrieval's best sentences. A sentence is an item of the list when the
reader says it answers and the words it marks are, or stand in, a name
(``named_runs``) that the question does not already name and that is not
the one it sets aside. The items are quoted in the documents' order.
Pure string work here, beside the reader's readings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answering.judge import neighbours, probability
from assistant.answering.reader import Reader
from assistant.params import ReaderSettings
from assistant.retrieval.retriever import SentenceHit
from index.storage.builds import Index
from index.storage.lexical import STOPWORDS

_SETTING_ASIDE = re.compile(r"\b(?:besides|apart from|aside from|other than|except for|except|in addition to)\s+",
                            re.IGNORECASE)
_CLAUSE_END = re.compile(r",|\?|\.|!|\b(?:did|does|do|was|were|is|are|has|have|had|will)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_][\w’'.-]*")
# Lower-case words that stand inside names ("Khaled Bin Nordin", "Ludwig van Beethoven").
_NAME_PARTICLES = frozenset({"bin", "binti", "van", "von", "de", "da", "del", "der", "di", "du", "la", "le", "al",
                             "el", "ibn", "of"})
ITEM_MAX_WORDS = 12  # a span longer than this marks a clause, not a name


@dataclass(frozen=True)
class Listing:
    """What a list question asks: ``question`` without the clause that sets
    something aside, and what it sets aside (``excluded``, "" when nothing)."""

    question: str
    excluded: str = ""


def set_aside(question: str) -> Listing:
    """Split off a "besides / apart from / other than / except X" clause.

    >>> set_aside("Who did Singh meet besides Dong Jun?")
    Listing(question='Who did Singh meet?', excluded='Dong Jun')
    >>> set_aside("Apart from the Chinese minister, whom did Singh hold talks with?")
    Listing(question='Whom did Singh hold talks with?', excluded='the Chinese minister')
    >>> set_aside("Which ministers other than Dong Jun did Singh meet?")
    Listing(question='Which ministers did Singh meet?', excluded='Dong Jun')
    >>> set_aside("Who did Singh meet?")
    Listing(question='Who did Singh meet?', excluded='')
    """
    text = question.strip()
    found = _SETTING_ASIDE.search(text)
    if found is None:
        return Listing(text)
    rest = text[found.end():]
    end = _CLAUSE_END.search(rest)
    stop = end.start() if end else len(rest)
    excluded = rest[:stop].strip()
    after = rest[stop:]
    if after.startswith(","):
        after = after[1:]
    before = text[: found.start()].rstrip(" ,")
    joined = " ".join(part for part in (before, after.strip()) if part)
    joined = re.sub(r"\s+([?.!])", r"\1", joined)
    if not excluded or not joined:
        return Listing(text)
    return Listing(joined[0].upper() + joined[1:], excluded)


def _words(text: str) -> list[tuple[str, int, int]]:
    """Words with their offsets, a possessive's "'s" and edge punctuation off.

    >>> _words("Singh's talks.")
    [('Singh', 0, 7), ('talks', 8, 14)]
    """
    return [(re.sub(r"[’']s$", "", m.group()).strip("’'.-"), m.start(), m.end()) for m in _WORD.finditer(text)]


def named_runs(sentence: str, start: int, end: int) -> list[str]:
    """The capitalised runs of words (names, with their particles) that
    overlap ``sentence[start:end]``, whole. A sentence's first word counts
    only when the next is capitalised too; punctuation ends a run.

    >>> s = "In addition, Singh also met with Malaysian Defence Minister Dato Seri Khaled Bin Nordin."
    >>> named_runs(s, s.index("Malaysian"), s.index("Minister") + 8)
    ['Malaysian Defence Minister Dato Seri Khaled Bin Nordin']
    >>> named_runs("Talks between S. Jaishankar and Chinese Foreign Minister Wang Yi.", 13, 65)
    ['S. Jaishankar', 'Chinese Foreign Minister Wang Yi']
    >>> named_runs("The council promised an inspection.", 0, 11)
    []
    """
    words = _words(sentence)
    runs: list[list[int]] = []
    for i, (word, _, _) in enumerate(words):
        capital = word[:1].isupper() and (i > 0 or (len(words) > 1 and words[1][0][:1].isupper()))
        particle = word.lower() in _NAME_PARTICLES and bool(runs) and runs[-1][-1] == i - 1 \
            and i + 1 < len(words) and words[i + 1][0][:1].isupper()
        joined = i > 0 and not sentence[words[i - 1][2]: words[i][1]].strip()  # nothing but space between
        if capital or particle:
            if runs and runs[-1][-1] == i - 1 and joined:
                runs[-1].append(i)
            else:
                runs.append([i])
    return [sentence[words[r[0]][1]: words[r[-1]][2]].strip("’'.,-") for r in runs
            if words[r[0]][1] < end and words[r[-1]][2] > start]


def _lower(text: str) -> set[str]:
    return {w.lower() for w, _, _ in _words(text)}


def is_item(run: str, question: str, excluded: str, document: str) -> bool:
    """Does the name ``run`` add an item to the list ``question`` asks for?
    It must be two words or more (a person's names, or a title and a
    name: a lone capitalised word is as often a country or a place), its
    last word (the head of an English name) must be a name the question
    does not use, one the ``document`` never writes in lower case (a
    name, not a common noun capitalised in a title), and the run must not
    be what the question sets aside (``excluded``'s content words).

    >>> doc = "Singh met Chinese Defence Minister Dong Jun. The two defence ministers talked."
    >>> is_item("Chinese Defence Minister Dong Jun", "Who did Singh meet?", "", doc)
    True
    >>> is_item("Chinese Defence Minister Dong Jun", "Who did Singh meet?", "the Chinese minister", doc)
    False
    >>> is_item("Chinese Defence Minister Dong Jun", "Who did Singh meet besides Dong Jun?", "Dong Jun", doc)
    False
    >>> is_item("ASEAN Defence Ministers", "Who did Singh meet?", "", doc), is_item("China", "Who?", "", doc)
    (False, False)
    """
    words = [w for w, _, _ in _words(run)]
    if len(words) < 2:
        return False
    head = words[-1].lower()
    if head in _lower(question) or re.search(rf"(?<![\w’'-]){re.escape(head)}(?![\w’'-])", document) is not None:
        return False
    aside = _lower(excluded) - STOPWORDS
    return not (aside and aside <= {w.lower() for w in words})


def items(reader: Reader, listing: Listing, question: str, index: Index, ranked: list[SentenceHit],
          settings: ReaderSettings) -> list[SentenceHit]:
    """The sentences among ``ranked``'s first ``settings.list_candidates``
    that name an item of the list, best first: the reader reads
    ``listing.question`` against each, and one whose probability reaches
    ``settings.list_probability`` and whose marked words hold a new name
    (``is_item``) is an item. Each name counts once."""
    read = ranked[: settings.list_candidates]
    if not read:
        return []
    texts = [index.sentence_text(h.sentence) for h in read]
    readings = reader.read(listing.question, [(t, *neighbours(index, h.sentence)) for t, h in zip(texts, read)],
                           settings.tokens)
    chosen: list[SentenceHit] = []
    named: set[str] = set()
    for hit, text, reading in zip(read, texts, readings):
        start, end = reading.span
        if probability(reading.score) < settings.list_probability or end <= start or len(text[start:end].split()) > ITEM_MAX_WORDS:
            continue
        document = index.document(hit.source).text
        new = [run for run in named_runs(text, start, end)
               if run.lower() not in named and is_item(run, question, listing.excluded, document)]
        if new:
            chosen.append(hit)
            named.update(run.lower() for run in new)
    return chosen
