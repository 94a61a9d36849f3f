"""askdoc's answering half: retrieval, cited extractive answers, and the
front ends (CLI, UI, API) built on them.

The public API is small::

    from assistant import Assistant
    answer = Assistant.load(".askdoc/index").ask("What did Singh tell Dong Jun?")
    answer.text, answer.citations, answer.abstained

Names load lazily so that ``import assistant`` (and ``askdoc --help``) stays
instant; torch and FAISS arrive with the first ``Assistant``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.answering.answer import Answer, Citation
    from assistant.core import Assistant
    from assistant.retrieval.retriever import Hit

__all__ = ["Answer", "Assistant", "Citation", "Hit"]

_WHERE = {"Answer": "answering.answer", "Citation": "answering.answer", "Assistant": "core", "Hit": "retrieval.retriever"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(name)
