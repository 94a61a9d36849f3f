"""The chat page built while the server already answers.

Gradio takes seconds to import and to build the page; the index and the
model take less than two. ``ChatPageLater`` sits behind the guard in front
of the FastAPI app: the API, ``/v1``, the widget and the source views answer
as soon as the model is loaded, while a worker thread imports Gradio, builds
the chat page and mounts it; until then the page's own routes answer 503
(a browser gets a page that reloads itself every second). Once it is
mounted, its start-up events run in the server's event loop, as they would
have at start, and every request goes to the app.

Nothing here decides who may read what: the guard in front has already
checked every request, whichever app answers it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from starlette.routing import Match, Mount

from assistant.guard.replies import html_page, refuse, wants_page

log = logging.getLogger(__name__)

STARTING_PAGE = (
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"1\">"
    "<title>askdoc is starting</title></head><body style=\"font: 16px system-ui, sans-serif; margin: 2rem\">"
    "<h1>askdoc is starting</h1><p>The chat page is ready in a few seconds; this page reloads by itself.</p>"
    "</body></html>"
).encode()
RETRY = [(b"retry-after", b"1")]


class ChatPageLater:
    """An ASGI app: ``app`` (FastAPI, the API and the other routes) at once,
    and the chat page that ``build`` mounts on it once ``build`` returns.

    ``build`` runs in a worker thread and returns the app with the page
    mounted and whatever ``on_ready`` needs (the guard's list of the page's
    functions that answer); ``on_ready`` runs in the event loop, before the
    first request reaches the page."""

    def __init__(self, app: Any, build: Callable[[], tuple[Any, Any]],
                 on_ready: Callable[[Any], None] = lambda ready: None) -> None:
        self.app = app
        self.build = build
        self.on_ready = on_ready
        self.mounted = False
        self.failure: str | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self._lifespan(scope, receive, send)
        if self.mounted or scope["type"] != "http" or self._routed_by_app(scope):
            return await self.app(scope, receive, send)
        if self.failure is not None:
            return await refuse(send, 500, f"the chat page could not be built: {self.failure}", None)
        if wants_page(scope):
            return await html_page(send, 503, STARTING_PAGE, RETRY)
        return await refuse(send, 503, "the chat page is starting; try again in a second", None, RETRY)

    def _routed_by_app(self, scope) -> bool:
        """Whether one of the app's own routes (not the page's mount) takes ``scope``."""
        for route in self.app.router.routes:
            if isinstance(route, Mount) and route.path == "":
                continue
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return True
        return False

    async def _lifespan(self, scope, receive, send) -> None:
        await receive()  # lifespan.startup
        stopping = asyncio.Event()
        task = asyncio.create_task(self._serve_page(stopping))
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        stopping.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            task.cancel()
        await send({"type": "lifespan.shutdown.complete"})

    async def _serve_page(self, stopping: asyncio.Event) -> None:
        """Build and mount the page, run its start-up events, and hold its
        lifespan open until the server stops."""
        try:
            app, ready = await asyncio.to_thread(self.build)
            page: Any = next((r.app for r in app.router.routes if isinstance(r, Mount) and r.path == ""), None)
            if page is None:
                raise RuntimeError("nothing was mounted at /")
            async with page.router.lifespan_context(page):
                blocks = page.get_blocks()
                blocks.run_startup_events()
                await blocks.run_extra_startup_events()
                self.app = app
                self.on_ready(ready)
                self.mounted = True
                app.state.chat_page = "ready"
                log.info("the chat page is ready")
                await stopping.wait()
        except Exception as exc:  # the API keeps answering; the page says why it is missing
            if self.mounted:  # on its way down, as the server stops
                log.exception("the chat page stopped with an error")
                return
            log.exception("the chat page could not be built")
            self.failure = str(exc) or type(exc).__name__
            self.app.state.chat_page = "failed"
            await stopping.wait()
