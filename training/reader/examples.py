"""Question-sentence pairs for the reader, with negatives that look like
near misses:

- the answering sentence (label 1, with the answer's offsets inside it);
- a sentence of the same paragraph that does not hold the answer;
- the closest sentence (most question words) of another paragraph of the
  same article;
- the question altered to ask what the passage does not say: a name,
  number or date it shares with the answering sentence replaced by another
  of the same shape from the article, asked of that same sentence (label 0);
- the answering sentence altered to say it of someone else: a name,
  number or date it shares with the question replaced, in the sentence, by
  another of the same shape from the article, its neighbours unchanged
  (label 0): someone else's meeting beside the asked-of person's, the
  shape a list question meets ("Who did Singh meet besides Dong Jun?"
  beside "Jaishankar held talks with Wang Yi");
- for a question its paragraph cannot answer (SQuAD 2.0), the paragraph's
  closest sentence (label 0).

Every pair carries the sentences just before and after its target, as the
reader sees them at question time.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from index.documents.segment import split_sentences

from .data import Passage, Question

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the of in on at to for by with from and or is was were are be been what which who whom whose "
                  "when where why how did do does that this these those it its as".split())
# A name (capitalized words), a year, or a number: what an altered question swaps. A capitalized word
# opening a sentence is no name by its capital alone, so those are passed over (``named``).
_NAMED = re.compile(r"\b(?:[A-Z][a-z]+(?: (?:of |de |the )?[A-Z][a-z]+)*|\d{4}|\d[\d,.]*)\b")


@dataclass(frozen=True)
class Example:
    question: str
    sentence: str
    before: str
    after: str
    label: int
    span: tuple[int, int] | None  # the answer's offsets inside ``sentence`` (label 1 only)
    kind: str  # answer, same_paragraph, other_paragraph, altered, someone_else, unanswerable, selqa


def words(text: str) -> set[str]:
    """
    >>> sorted(words("When did the Tom meet Ann?"))
    ['ann', 'meet', 'tom']
    """
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def shape(named: str) -> str:
    """
    >>> shape("1990"), shape("3,000"), shape("New York")
    ('year', 'number', 'name')
    """
    if re.fullmatch(r"\d{4}", named):
        return "year"
    return "number" if named[0].isdigit() else "name"


def named(text: str) -> list[re.Match]:
    """The names, years and numbers of ``text``, but for a word that only opens a sentence.

    >>> [m.group(0) for m in named("When did Singh meet Dong Jun in 2024? The talks went on.")]
    ['Singh', 'Dong Jun', '2024']
    """
    return [m for m in _NAMED.finditer(text)
            if not (m.start() == 0 or text[max(0, m.start() - 2): m.start()] in (". ", "? ", "! "))]


def altered(question: str, sentence: str, article: str, rng: random.Random) -> str | None:
    """``question`` with one name, year or number it shares with ``sentence``
    replaced by another of the same shape from ``article`` that the
    sentence does not hold; None when there is none to swap.

    >>> altered("When did Singh meet Dong Jun?", "Singh met Dong Jun in Laos.", "Later Singh met Khaled.",
    ...         random.Random(0)) in ("When did Khaled meet Dong Jun?", "When did Singh meet Khaled?")
    True
    """
    shared = [m for m in named(question) if m.group(0) in sentence]
    if not shared:
        return None
    chosen = rng.choice(shared)
    kind = shape(chosen.group(0))
    pool = others_of_shape(article, kind, sentence, question)
    if not pool:
        return None
    return question[: chosen.start()] + rng.choice(pool) + question[chosen.end():]


def others_of_shape(article: str, kind: str, *absent_from: str) -> list[str]:
    """The names, years or numbers (``kind``, as ``shape`` says) of ``article``
    that none of ``absent_from`` holds, sorted: what a near miss swaps in.

    >>> others_of_shape("In 2019 Dong Jun met Khaled and Singh.", "name", "Singh spoke.")
    ['Dong Jun', 'Khaled']
    """
    return sorted({m.group(0) for m in named(article) if shape(m.group(0)) == kind
                   and not any(m.group(0) in text for text in absent_from)})


def someone_else(question: str, sentence: str, answer: tuple[int, int], article: str,
                 rng: random.Random) -> str | None:
    """``sentence`` with a name, year or number it shares with ``question``
    (outside the answer's offsets ``answer``) replaced, wherever it stands
    in the sentence, by another of the same shape from ``article`` that
    neither holds; None when there is none to swap.

    >>> someone_else("Who did Singh meet?", "Singh met Dong Jun in Laos.", (10, 18),
    ...              "Dong Jun also met Khaled.", random.Random(0))
    'Khaled met Dong Jun in Laos.'
    >>> someone_else("Where was Jun?", "In June it rained in Laos.", (20, 24), "Later, Khaled left.", random.Random(0)) is None
    True
    """
    shared = sorted({m.group(0) for m in named(question) if m.group(0) in sentence
                     and not any(at < answer[1] and at + len(m.group(0)) > answer[0]
                                 for at in _occurrences(sentence, m.group(0)))})
    if not shared:
        return None
    chosen = rng.choice(shared)
    pool = [n for n in others_of_shape(article, shape(chosen), sentence, question) if chosen not in n]
    if not pool:
        return None
    other = rng.choice(pool)
    told = re.sub(rf"(?<!\w){re.escape(chosen)}(?!\w)", lambda _: other, sentence)
    return told if told != sentence else None  # shared only inside a longer word ("Jun" in "June"): no swap


def _occurrences(text: str, part: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(part), text)]


def _sentences(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in split_sentences(text)]


def _around(spans: list[tuple[int, int]], i: int, text: str) -> tuple[str, str]:
    before = text[spans[i - 1][0]: spans[i - 1][1]] if i > 0 else ""
    after = text[spans[i + 1][0]: spans[i + 1][1]] if i + 1 < len(spans) else ""
    return before, after


def _holding(spans: list[tuple[int, int]], answer: tuple[int, int]) -> int | None:
    """The sentence that holds the whole answer (None when it spans two)."""
    for i, (start, end) in enumerate(spans):
        if start <= answer[0] and answer[1] <= end:
            return i
    return None


def examples_of(passages: list[Passage], rng: random.Random, altered_share: float = 0.5,
                someone_else_share: float = 0.0) -> list[Example]:
    """Every question's pairs (see the module's docstring), article by article.
    ``someone_else_share`` of the questions also get their answering
    sentence said of someone else (0 draws nothing more from ``rng``, so
    a recipe without it reads the same pairs as before it existed)."""
    by_title: dict[str, list[tuple[Passage, list[tuple[int, int]]]]] = {}
    for passage in passages:
        by_title.setdefault(f"{passage.source}:{passage.title}", []).append((passage, _sentences(passage.text)))
    out: list[Example] = []
    for group in by_title.values():
        article = " ".join(p.text for p, _ in group)
        # Every sentence of the article once, with its paragraph and words: the other paragraphs' candidates.
        pool = [(j, p.text[s:e], *_around(sp, k, p.text), words(p.text[s:e]))
                for j, (p, sp) in enumerate(group) for k, (s, e) in enumerate(sp)]
        for at, (passage, spans) in enumerate(group):
            others = [entry for entry in pool if entry[0] != at]
            for question in passage.questions:
                out += _pairs(question, passage, spans, others, article, rng, altered_share, someone_else_share)
    return out


def _closest(question: str, candidates, avoid: tuple[str, ...] = ()) -> tuple[str, str, str] | None:
    """The candidate ``(paragraph, sentence, before, after, words)`` sharing the
    most words with ``question`` (at least one) and holding none of ``avoid``
    (an answer's words: a sentence elsewhere that says it is no negative)."""
    asked = words(question)
    best, best_score = None, 0
    for _, sentence, before, after, held in candidates:
        score = len(asked & held)
        if score > best_score and not any(a in sentence.lower() for a in avoid):
            best, best_score = (sentence, before, after), score
    return best


def _pairs(question: Question, passage: Passage, spans: list[tuple[int, int]], others, article: str,
           rng: random.Random, altered_share: float, someone_else_share: float = 0.0) -> list[Example]:
    text = passage.text
    pairs: list[Example] = []
    answering = {i for i in (_holding(spans, a) for a in question.answers) if i is not None}
    if passage.source == "selqa":
        for i, (start, end) in enumerate(spans):
            label = int(i in answering)
            if label or rng.random() < 0.35:
                pairs.append(Example(question.text, text[start:end], *_around(spans, i, text), label, None, "selqa"))
        return pairs
    if not question.answers:  # unanswerable: the paragraph's closest sentence is a near miss
        own = [(0, text[s:e], *_around(spans, i, text), words(text[s:e])) for i, (s, e) in enumerate(spans)]
        close = _closest(question.text, own)
        if close:
            pairs.append(Example(question.text, *close, 0, None, "unanswerable"))
        return pairs
    if not answering:
        return pairs
    best = min(answering)
    answer = next(a for a in question.answers if _holding(spans, a) == best)
    start, end = spans[best]
    sentence = text[start:end]
    pairs.append(Example(question.text, sentence, *_around(spans, best, text), 1,
                         (answer[0] - start, answer[1] - start), "answer"))
    said = tuple(text[a:b].lower() for a, b in question.answers)
    rest = [i for i in range(len(spans)) if i not in answering and not any(x in text[spans[i][0]:spans[i][1]].lower()
                                                                           for x in said)]
    if rest:
        i = rng.choice(rest)
        pairs.append(Example(question.text, text[spans[i][0]:spans[i][1]], *_around(spans, i, text), 0, None,
                             "same_paragraph"))
    close = _closest(question.text, others, said)
    if close:
        pairs.append(Example(question.text, *close, 0, None, "other_paragraph"))
    if rng.random() < altered_share:
        changed = altered(question.text, sentence, article, rng)
        if changed:
            pairs.append(Example(changed, sentence, *_around(spans, best, text), 0, None, "altered"))
    if someone_else_share and rng.random() < someone_else_share:
        told = someone_else(question.text, sentence, (answer[0] - start, answer[1] - start), article, rng)
        if told:
            pairs.append(Example(question.text, told, *_around(spans, best, text), 0, None, "someone_else"))
    return pairs
