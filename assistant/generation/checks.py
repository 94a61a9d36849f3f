"""The checks a generated sentence must pass before a reader sees it: it
cites excerpts it was given, every number and name in it stands in them, it
adds no negation, and at least ``MIN_SUPPORT`` of its content words are
there (``generate`` runs them on each sentence as it arrives)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answering.answer import Citation
from index.documents.segment import split_sentences
from index.storage.lexical import tokenize

MIN_SUPPORT = 0.8
_MARKER = re.compile(r"\[(\d{1,3})\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_MARKERS_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d{1,3}\])+)")
_NEGATION = re.compile(r"\b(?:not|never|no|none|nobody|nothing|neither|nor|without|cannot)\b|n['’]t\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """One generated sentence (markers removed), what it cites, and why it
    was dropped ("" when kept)."""

    text: str
    markers: tuple[int, ...]
    reason: str = ""

    @property
    def kept(self) -> bool:
        return not self.reason


def markers_inside(text: str) -> str:
    """Markers written after a full stop moved before it, where a sentence
    splitter sees them as the sentence's end.

    >>> markers_inside("Singh met Dong Jun. [1] They spoke. [1][2] Then")
    'Singh met Dong Jun [1]. They spoke [1][2]. Then'
    """
    return _MARKERS_AFTER_STOP.sub(lambda m: " " + m.group(2).strip() + m.group(1), text)


def split_generated(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """A reply's sentences, each with the markers that end it.

    >>> split_generated("Singh met Dong Jun [1]. They spoke of peace. [1][2] Thanks")
    [('Singh met Dong Jun.', (1,)), ('They spoke of peace.', (1, 2)), ('Thanks', ())]
    """
    text = markers_inside(" ".join(text.split()))
    pieces = [text[s.start : s.end] for s in split_sentences(text)] if text.strip() else []
    sentences: list[list] = []
    for piece in pieces:
        leading = re.match(r"^(\s*\[\d{1,3}\])+", piece)
        if leading and sentences:  # "[1]" after the full stop belongs to the sentence before
            sentences[-1][1].extend(int(n) for n in _MARKER.findall(leading.group()))
            piece = piece[leading.end():]
        if piece.strip():
            sentences.append([piece, [int(n) for n in _MARKER.findall(piece)]])
    out = []
    for piece, markers in sentences:
        bare = " ".join(_MARKER.sub(" ", piece).split())
        bare = re.sub(r"\s+([.!?,;:])", r"\1", bare)
        if bare:
            out.append((bare, tuple(dict.fromkeys(markers))))
    return out


def check(sentence: str, markers: tuple[int, ...], excerpts: dict[int, Citation], question: str) -> str:
    """Why ``sentence`` may not be shown ("" when every check passes).

    >>> e = {1: Citation(1, "a.txt", 0, 40, "Singh met Dong Jun in Vientiane in 2024.", 1.0, 0, 40)}
    >>> check("Singh met Dong Jun in 2024.", (1,), e, "When?")
    ''
    >>> check("Singh met Dong Jun in 2023.", (1,), e, "When?")
    'the number 2023 is not in the cited excerpts'
    >>> check("Singh met Li Wei in 2024.", (1,), e, "Who?")
    'the name Li is not in the cited excerpts'
    >>> check("Singh did not meet Dong Jun.", (1,), e, "Who?")
    'a negation the cited excerpts do not hold'
    >>> check("Singh met Dong Jun.", (2,), e, "Who?"), check("Singh met Dong Jun.", (), e, "Who?")
    ('it cites [2], which was not given', 'it cites no excerpt')
    """
    if not markers:
        return "it cites no excerpt"
    missing = [m for m in markers if m not in excerpts]
    if missing:
        return f"it cites [{missing[0]}], which was not given"
    support = " ".join(excerpts[m].text for m in markers) + " " + question
    support_numbers = {n.replace(",", "") for n in _NUMBER.findall(support)}
    for number in _NUMBER.findall(sentence):
        if number.replace(",", "").rstrip(".") not in support_numbers:
            return f"the number {number} is not in the cited excerpts"
    support_words = {w.lower() for w in _WORD.findall(support)}
    for word in _WORD.findall(sentence)[1:]:
        if word[0].isupper() and word.lower() not in support_words:
            return f"the name {word} is not in the cited excerpts"
    if _NEGATION.search(sentence) and not _NEGATION.search(support):
        return "a negation the cited excerpts do not hold"
    terms = tokenize(sentence)
    if terms:
        held = set(tokenize(support))
        share = sum(t in held for t in terms) / len(terms)
        if share < MIN_SUPPORT:
            return f"only {share:.0%} of its words are in the cited excerpts"
    return ""


def supporting_sentence(citation: Citation, sentence: str) -> tuple[int, int]:
    """The sentence of the excerpt sharing most words with ``sentence``, as
    document offsets: what the citation highlights."""
    wanted = set(tokenize(sentence))
    best, best_overlap = (citation.highlight_start, citation.highlight_end), -1
    for span in split_sentences(citation.text):
        if span.heading:
            continue
        overlap = len(wanted & set(tokenize(citation.text[span.start : span.end])))
        if overlap > best_overlap:
            best, best_overlap = (citation.start + span.start, citation.start + span.end), overlap
    return best
