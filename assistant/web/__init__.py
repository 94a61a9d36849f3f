"""askdoc's web front ends: the Gradio chat (``ui``), the JSON API (``api``),
the widget and the source view, served as one app (``server``) behind one
guard (``guard``: the route table of ``access``, origins, token and sign-in
(``signin``), admin token, rate limit, body size, proxies, root path).

They depend on the assistant only through ``Answerer``: whatever answers
questions asynchronously and shows the index it answers from
(``live.LiveAssistant`` in a server, a stub in a test).
"""

from __future__ import annotations

import time
from typing import Any, TYPE_CHECKING, AsyncIterator, Callable, Protocol

if TYPE_CHECKING:
    from index.storage.builds import Index

    from ..answer import Answer
    from ..permissions import Readers
    from .identity import Asker


class Answerer(Protocol):
    """What the UI and the API need of the answerer."""

    max_batch: int  # how many questions one model pass answers
    readers: "Readers | None"  # what each asker may read (None: the server knows no users)

    @property
    def index(self) -> "Index": ...

    async def ask_async(self, question: str, history: list[dict] | None = None,
                        scope: str | list[str] | None = None, asker: "Asker | None" = None) -> "Answer": ...

    async def answer(self, question: str, history: list[dict] | None = None,
                     scope: str | list[str] | None = None, asker: "Asker | None" = None) -> "Answer": ...

    def answer_events(self, question: str, history: list[dict] | None = None,
                      scope: str | list[str] | None = None,
                      asker: "Asker | None" = None) -> "AsyncIterator[tuple[str, Any]]": ...


def readable_ids(answerer: Answerer, asker: "Asker | None") -> list[str]:
    """The document ids ``asker`` may see: every one on a server that knows no users."""
    doc_ids = list(answerer.index.doc_ids)
    return doc_ids if answerer.readers is None else answerer.readers.documents(asker, doc_ids)


def may_read(answerer: Answerer, asker: "Asker | None", doc_id: str) -> bool:
    return answerer.readers is None or answerer.readers.may_read(asker, doc_id)


def visible_to(answerer: Answerer, asker: "Asker | None") -> "Callable[[str], bool] | None":
    """What a listing may show ``asker`` (None: everything, on a server that knows no users)."""
    return None if answerer.readers is None else answerer.readers.visible(asker)


def utc_now() -> str:
    """Now, as the server's records write it.

    >>> len(utc_now()), utc_now().endswith("Z")
    (20, True)
    """
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
