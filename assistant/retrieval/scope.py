"""Scopes: a question limited to part of the corpus ("only HR's documents").

A scope is one entry or a list of them; an entry is a document id
(``"it/vpn.md"``) or a folder (``"hr"`` or ``"hr/"``: every document whose id
starts with ``hr/``). The search itself is limited to the scope's chunks:
the engine searches only its chunks (FAISS with an ID selector, Qdrant with a
filter on the document) and BM25 candidates outside the scope are dropped, so a scoped answer never cites a document outside its scope and
costs about what an unscoped one does.

    >>> Scope.parse("hr")
    Scope(entries=('hr',))
    >>> Scope.parse(["/hr/", "it/vpn.md", " hr/"])
    Scope(entries=('hr/', 'it/vpn.md'))
    >>> Scope.parse("") is None and Scope.parse(None) is None and Scope.parse([]) is None
    True
    >>> scope = Scope.parse(["hr", "it/vpn.md"])
    >>> scope.holds("hr/pay/2024.pdf"), scope.holds("it/vpn.md"), scope.holds("hrx/a.txt")
    (True, True, False)
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Sequence

import numpy as np

from index.engines.base import Restriction
from index.errors import QuestionError

MAX_ENTRIES = 1000  # a scope longer than this is a mistake, not a scope


@dataclass(frozen=True)
class Scope:
    entries: tuple[str, ...]

    @classmethod
    def parse(cls, value: str | Sequence[str] | None) -> "Scope | None":
        """One entry (a string) or several (a list); ``None`` when empty."""
        if value is None:
            return None
        entries = [value] if isinstance(value, str) else list(value)
        if len(entries) > MAX_ENTRIES:
            raise QuestionError(f"a scope lists at most {MAX_ENTRIES} documents or folders")
        if not all(isinstance(e, str) for e in entries):
            raise QuestionError("a scope is a folder or document id, or a list of them (strings)")
        cleaned = [e.strip().replace("\\", "/").lstrip("/") for e in entries]
        cleaned = [e for e in cleaned if e and e not in {".", "./"}]
        return cls(tuple(dict.fromkeys(cleaned))) if cleaned else None

    def holds(self, doc_id: str) -> bool:
        """Is ``doc_id`` this document, or in this folder, for an entry?"""
        return any(doc_id == e or doc_id.startswith(e.rstrip("/") + "/") for e in self.entries)

    def describe(self) -> str:
        return ", ".join(self.entries)


def folders_of(doc_ids: Sequence[str]) -> list[str]:
    """Every folder that holds a document, for a scope picker.

    >>> folders_of(["a.txt", "hr/leave.docx", "hr/pay/2024.pdf", "it/vpn.md"])
    ['hr/', 'hr/pay/', 'it/']
    """
    return sorted({folder for doc_id in doc_ids for folder in _ancestors(doc_id)})


def check_names(scope: Scope, doc_ids: set[str], folders: set[str]) -> None:
    """A ``QuestionError`` naming the entries of ``scope`` that are neither
    one of ``doc_ids`` nor one of ``folders`` (as ``folders_of`` writes them)."""
    missing = [e for e in scope.entries if e not in doc_ids and e.rstrip("/") + "/" not in folders]
    if missing:
        raise QuestionError(f"no document or folder {', '.join(map(repr, missing[:5]))} in the index")


def _ancestors(doc_id: str) -> list[str]:
    """The folders above a document, outermost first.

    >>> _ancestors("hr/pay/2024.pdf")
    ['hr/', 'hr/pay/']
    """
    parts = doc_id.split("/")[:-1]
    return ["/".join(parts[:depth]) + "/" for depth in range(1, len(parts) + 1)]


class ScopeChunks:
    """The documents and chunks each scope covers (a ``Restriction``),
    remembered for the scopes last asked (an intranet page asks with the
    same scope again and again). Nothing is computed until a question has a
    scope: a server whose questions have none pays nothing."""

    KEPT = 64

    def __init__(self, doc_ids: Sequence[str], chunk_doc: Callable[[], np.ndarray]) -> None:
        self._doc_ids = doc_ids
        self._chunk_doc_of = chunk_doc
        self._known: OrderedDict[Scope, Restriction] = OrderedDict()

    @cached_property
    def _chunk_doc(self) -> np.ndarray:
        return self._chunk_doc_of()

    @cached_property
    def _id_set(self) -> set[str]:
        return set(self._doc_ids)

    @cached_property
    def _folder_set(self) -> set[str]:
        return set(folders_of(self._doc_ids))

    def restriction(self, scope: Scope) -> Restriction:
        """The documents and chunks in ``scope`` (see ``index.engines.base.Restriction``);
        a ``QuestionError`` naming any entry that is neither a document nor a
        folder of the index."""
        found = self._known.get(scope)
        if found is not None:
            self._known.move_to_end(scope)
            return found
        check_names(scope, self._id_set, self._folder_set)
        ids = {e for e in scope.entries if e in self._id_set}
        folders = {e.rstrip("/") + "/" for e in scope.entries if e not in ids}
        rows = np.array([r for r, doc_id in enumerate(self._doc_ids)
                         if doc_id in ids or any(f in folders for f in _ancestors(doc_id))], dtype=np.int64)
        found = Restriction.of_documents(rows, self._chunk_doc)
        self._known[scope] = found
        if len(self._known) > self.KEPT:
            self._known.popitem(last=False)
        return found
