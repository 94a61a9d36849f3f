"""The excerpt a citation shows around an answering sentence: enough of its
document for a reader to check the quote.

An excerpt grows from the sentence to its neighbours, better-scoring side
first, inside its paragraph and then across paragraphs (news paragraphs are
often one sentence long), while it fits a character budget. A sentence that
refers back ("He said ...", "The network announced ...") always brings the
sentence before it, and a document's lede brings its title line.
"""

from __future__ import annotations

import re

from assistant.retrieval.lexicon import DEFINITE_DETERMINERS, REFERRING_OPENINGS, alternation
from index.storage.builds import Index

_OPENING = r"^[\s\"“‘'(\[]*"
_PRONOUN_OPENING = re.compile(rf"{_OPENING}{alternation(REFERRING_OPENINGS)}\b", re.IGNORECASE)
# "The network", "That decision": a determiner and a lower-case word (not a name: "The ADMM-Plus").
_DEFINITE_OPENING = re.compile(rf"{_OPENING}(?i:{'|'.join(DEFINITE_DETERMINERS)})\s+[a-z]")


def opens_with_pronoun(sentence: str) -> bool:
    """Does the sentence open with a pronoun, unreadable without what it stands for?

    >>> opens_with_pronoun("He stated that ties matter."), opens_with_pronoun("“It is back,” she said.")
    (True, True)
    >>> opens_with_pronoun("Singh met Dong Jun."), opens_with_pronoun("Italy won.")
    (False, False)
    """
    return bool(_PRONOUN_OPENING.match(sentence))


def refers_back(sentence: str) -> bool:
    """Does the sentence open by pointing at something named before it?

    >>> refers_back("The network announced a second season."), refers_back("They met in Vientiane.")
    (True, True)
    >>> refers_back("The ADMM-Plus serves as a platform."), refers_back("Singh met Dong Jun.")
    (False, False)
    """
    return opens_with_pronoun(sentence) or bool(_DEFINITE_OPENING.match(sentence))


def context_before(index: Index, sentence: int) -> int | None:
    """The sentence an excerpt of ``sentence`` must show before it, if any:
    the one before it when it refers back, the title line before a lede."""
    t = index.tables
    previous = sentence - 1
    if previous < 0 or t.sent_doc[previous] != t.sent_doc[sentence]:
        return None
    is_title = bool(t.sent_heading[previous]) and (previous == 0 or t.sent_doc[previous - 1] != t.sent_doc[previous])
    if is_title or refers_back(index.sentence_text(sentence)):
        return previous
    return None


def excerpt_bounds(index: Index, sentence: int, ranked: dict[int, float], budget: int) -> tuple[int, int]:
    """First and last sentence of the excerpt around ``sentence``.

    The context it cannot be read without comes first, whatever the budget;
    then neighbours in its paragraph, then in the paragraphs around it,
    better-scoring side first (``ranked``: sentence -> score), while the
    excerpt fits ``budget`` characters; it stops at boilerplate.
    """
    t = index.tables
    doc, para = t.sent_doc[sentence], t.sent_para[sentence]
    needed = context_before(index, sentence)
    first, last = (needed if needed is not None else sentence), sentence

    for same_paragraph in (True, False):
        while True:
            options = [s for s in (first - 1, last + 1)
                       if 0 <= s < index.sentence_count and t.sent_doc[s] == doc and not t.sent_boilerplate[s]
                       and (not same_paragraph or t.sent_para[s] == para)]
            options.sort(key=lambda s: -ranked.get(s, -1.0))
            for s in options:
                lo, hi = min(first, s), max(last, s)
                if t.sent_end[hi] - t.sent_start[lo] <= budget:
                    first, last = lo, hi
                    break
            else:
                break
    return first, last
