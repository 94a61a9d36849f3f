"""askdoc's web front ends: the Gradio chat (``ui``), the JSON API (``api``),
the widget and the source view, served as one app (``server``) behind one
guard (``guard``: the route table of ``access``, origins, token and sign-in
(``signin``), admin token, rate limit, body size, proxies, root path).

They depend on the assistant only through ``Answerer``: whatever answers
questions asynchronously and shows the index it answers from
(``live.LiveAssistant`` in a server, a stub in a test).
"""

from __future__ import annotations

from typing import Any, TYPE_CHECKING, AsyncIterator, Protocol

if TYPE_CHECKING:
    from index.storage.builds import Index

    from ..answer import Answer


class Answerer(Protocol):
    """What the UI and the API need of the answerer."""

    max_batch: int  # how many questions one model pass answers

    @property
    def index(self) -> "Index": ...

    async def ask_async(self, question: str, history: list[dict] | None = None,
                        scope: str | list[str] | None = None) -> "Answer": ...

    async def answer(self, question: str, history: list[dict] | None = None,
                     scope: str | list[str] | None = None) -> "Answer": ...

    def answer_events(self, question: str, history: list[dict] | None = None,
                      scope: str | list[str] | None = None) -> "AsyncIterator[tuple[str, Any]]": ...
