"""What every route needs of the assistant a server holds: ``ServedAssistant``,
whatever answers questions asynchronously and shows the index it answers
from (``app.live.LiveAssistant`` in a server, a stub in a test), and what
an asker may read of that index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Protocol

if TYPE_CHECKING:
    from assistant.answering.answer import Answer
    from assistant.people.identity import Asker
    from assistant.people.permissions import Readers
    from index.storage.builds import Index


class ServedAssistant(Protocol):
    """What the chat page and the APIs need of the assistant a server holds."""

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


def readable_ids(served: ServedAssistant, asker: "Asker | None") -> list[str]:
    """The document ids ``asker`` may see: every one on a server that knows no users."""
    doc_ids = list(served.index.doc_ids)
    return doc_ids if served.readers is None else served.readers.documents(asker, doc_ids)


def may_read(served: ServedAssistant, asker: "Asker | None", doc_id: str) -> bool:
    return served.readers is None or served.readers.may_read(asker, doc_id)


def visible_to(served: ServedAssistant, asker: "Asker | None") -> "Callable[[str], bool] | None":
    """What a listing may show ``asker`` (None: everything, on a server that knows no users)."""
    return None if served.readers is None else served.readers.visible(asker)
