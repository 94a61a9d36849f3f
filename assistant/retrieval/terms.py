"""From a question's words to the corpus terms that should count as them.

A question says "Malaysia" where a document says "Malaysian", "Rajnath"
where it says "Singh", "superbowl", "Maastrich" or "UMC". ``TermResolver``
maps each question term to a group of corpus terms (the term itself,
derived forms, name partners, a split compound or a spelling correction),
and reports the terms the documents never use, so that the answer can
abstain on a name nobody mentions.

Spelling goes through SymSpell (``symspellpy``): a lookup generates the
deletions of the misspelled term and finds corpus terms sharing one, so its
cost does not grow with the vocabulary (a loop over every term did).
"""

from __future__ import annotations

import bisect
import logging
import re
from functools import cached_property, lru_cache
from typing import Callable, Iterable

import numpy as np

from assistant.retrieval.lexicon import ACRONYM_FILLERS
from index.storage.lexical import LexicalIndex, tokenize

log = logging.getLogger(__name__)

_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b")


@lru_cache(maxsize=65_536)
def _name_parts(name: str) -> tuple[str, ...]:
    """A name's terms; the same names recur across sentences and questions."""
    return tuple(tokenize(name))


def typo_limit(token: str) -> int:
    """Edits tolerated when matching a misspelled term: none for short words.

    >>> typo_limit("cake"), typo_limit("maastrich"), typo_limit("zeria")
    (0, 2, 1)
    """
    return 0 if len(token) < 5 else 1 if len(token) < 8 else 2


class TermResolver:
    """Question terms to corpus terms, over the sentence-level BM25 index.

    ``sentence_texts(rows)`` gives sentences' texts (name partners read a few).
    """

    PARTNERS_KEPT = 50_000  # terms whose name partners are remembered (an index never changes)

    def __init__(self, lexical: LexicalIndex, sentence_texts: Callable[[np.ndarray], list[str]]) -> None:
        self.lexical = lexical
        self.sentence_texts = sentence_texts
        self._partners: dict[str, list[str]] = {}

    @cached_property
    def _sorted_vocabulary(self) -> list[str]:
        return sorted(self.lexical.vocabulary)

    @cached_property
    def _speller(self):
        """Built on the first unknown term: most questions never need it."""
        from symspellpy import SymSpell

        speller = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for term in self._sorted_vocabulary:
            speller.create_dictionary_entry(term, self.lexical.document_frequency(term))
        return speller

    def spell(self, token: str) -> str | None:
        """The corpus term ``token`` most likely misspells, if any: the fewest
        edits (insert, delete, substitute, swap two neighbours), sharing the
        first or the last letter; among equals the most frequent."""
        limit = typo_limit(token)
        if not limit:
            return None
        from symspellpy import Verbosity

        found = [s for s in self._speller.lookup(token, Verbosity.CLOSEST, max_edit_distance=limit)
                 if s.distance > 0 and (s.term[0] == token[0] or s.term[-1] == token[-1])]
        if not found:
            return None
        return min(found, key=lambda s: (s.distance, -s.count, s.term)).term

    def resolve(self, tokens: Iterable[str], names: frozenset[str] | None = None
                ) -> tuple[list[tuple[str, ...]], list[str]]:
        """(term groups to search for, terms the documents never use).

        A group is a query term with the corpus terms that extend it
        ("malaysia" also matches "malaysian") and the other parts of the
        names it belongs to, or a misspelling's correction, or the two terms
        a compound runs together. Only ``names`` (every term when ``None``)
        are looked up as parts of names: reading sentences for a plain word
        like "meet" finds nothing.
        """
        groups, unknown = [], []
        for token in dict.fromkeys(tokens):
            variants = self.extensions(token)
            if self.lexical.document_frequency(token):
                partners = self.name_partners(token) if names is None or token in names else []
                groups.append(tuple(dict.fromkeys((token, *variants, *partners))))
            elif variants:
                groups.append(tuple(variants))
            else:
                repaired = self.split_compound(token)
                if not repaired and typo_limit(token):
                    spelled = self.spell(token)
                    repaired = (spelled,) if spelled else ()
                if repaired and all(repaired):
                    groups.append(repaired)
                else:
                    unknown.append(token)
        return groups, unknown

    def name_partners(self, token: str, sample: int = 20) -> list[str]:
        """Other parts of the names ``token`` belongs to in the documents.

        A text that says "Rajnath Singh" once and "Singh" after that is still
        about Rajnath: so a sentence naming "Singh" covers a question's
        "Rajnath" (and the other way round). Reads ``sample`` sentences, once
        per term: the answer is remembered.
        """
        if token in self._partners:
            return self._partners[token]
        partners: list[str] = []
        for text in self.sentence_texts(self.lexical.postings(token, limit=sample)):
            for name in _NAME.findall(text):
                parts = _name_parts(name)
                if token in parts and len(parts) <= 4:
                    partners.extend(p for p in parts if p != token and p not in partners)
        if len(self._partners) >= self.PARTNERS_KEPT:
            self._partners.clear()
        self._partners[token] = partners
        return partners

    def split_compound(self, token: str) -> tuple[str, ...]:
        """Two corpus terms that ``token`` runs together ("superbowl")."""
        frequency = self.lexical.document_frequency
        for cut in range(3, len(token) - 2):
            left, right = tokenize(token[:cut]), tokenize(token[cut:])
            if len(left) == len(right) == 1 and frequency(left[0]) and frequency(right[0]):
                return (left[0], right[0])
        return ()

    def extensions(self, token: str) -> list[str]:
        """Corpus terms that are ``token`` plus a short suffix (derived forms
        the stemmer keeps apart, such as "malaysia" and "malaysian")."""
        if len(token) < 5:
            return []
        vocabulary = self._sorted_vocabulary
        found = []
        # The terms starting with ``token`` sit together in sorted order.
        for candidate in vocabulary[bisect.bisect_right(vocabulary, token) :]:
            if not candidate.startswith(token):
                break
            if len(candidate) <= len(token) + 3:
                found.append(candidate)
        return found


def acronym_in(token: str, question: str, texts: Iterable[str]) -> bool:
    """Is ``token`` an acronym the question writes in capitals ("UMC") whose
    long form ("United Methodist Church") stands in one of ``texts``?

    >>> acronym_in("umc", "Who founded the UMC?", ["The United Methodist Church grew."])
    True
    >>> acronym_in("umc", "Who founded the umc?", ["The United Methodist Church grew."])
    False
    """
    surface = next((m for m in re.findall(r"\b[A-Z]{2,6}s?\b", question) if m.lower().rstrip("s") == token.rstrip("s")),
                   None)
    if surface is None:
        return False
    letters = surface.rstrip("s").upper()
    fillers = "|".join(ACRONYM_FILLERS)
    pattern = re.compile(r"\b" + rf"\W+(?:(?:{fillers})\W+)?".join(f"{c}[\\w'’-]*" for c in letters) + r"\b")
    return any(pattern.search(text) for text in texts)
