"""One server process: a FastAPI app with the Gradio UI mounted at ``/`` and
the routes every front end shares (the source view).

The index loads once at start-up; questions go through one lock-free
``Assistant`` (FAISS search and the model's forward pass are read-only).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .answer import Answer
from .engine import Assistant
from .render import source_page_html
from .ui import CSS, HEAD, FeedbackLog, build_ui, load_examples, theme

log = logging.getLogger(__name__)

# Document text must never run as code, whatever a bug in escaping might let through.
SOURCE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


@dataclass
class Settings:
    index_dir: Path
    docs_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 7860
    root_path: str = ""
    extra: dict = field(default_factory=dict)


class Engine:
    """The assistant behind the server, serializing the model's forward pass."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._lock = threading.Lock()

    def ask(self, question: str, history: list[dict] | None = None) -> Answer:
        # torch already uses both cores for one forward pass; running two at
        # once only makes both slower.
        with self._lock:
            return self.assistant.ask(question, history)


def create_app(assistant: Assistant, settings: Settings):
    """The FastAPI app with the UI mounted; routes added here come first."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from fastapi import FastAPI, HTTPException, Query
    from fastapi.responses import HTMLResponse

    engine = Engine(assistant)
    app = FastAPI(title="askdoc", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    index = assistant.index

    @app.get("/source", response_class=HTMLResponse, include_in_schema=False)
    def source(doc: str = Query(...), start: int = 0, end: int = 0, hs: int = -1, he: int = -1, full: bool = False):
        try:
            document = index.document(doc)
        except KeyError:
            raise HTTPException(status_code=404, detail=f"no document {doc!r} in the index") from None
        hs, he = (start, end) if hs < 0 or he < 0 else (hs, he)
        page = source_page_html(doc, document.title, document.text, start, end, hs, he,
                                page=document.page_at(start), full=full)
        return HTMLResponse(page, headers={"Content-Security-Policy": SOURCE_CSP, "X-Content-Type-Options": "nosniff"})

    feedback = FeedbackLog(Path(settings.index_dir) / "feedback.jsonl")
    demo = build_ui(assistant, engine.ask, feedback, load_examples(settings.docs_dir))
    demo.queue(default_concurrency_limit=4)
    return gr.mount_gradio_app(
        app, demo, path="/", theme=theme(), css=CSS, head=HEAD, footer_links=[],
        root_path=settings.root_path or None, ssr_mode=False, show_error=False,
    )


def serve(assistant: Assistant, settings: Settings) -> None:
    import uvicorn

    app = create_app(assistant, settings)
    url = f"http://{settings.host}:{settings.port}{settings.root_path}/"
    log.info("askdoc is serving %s (documents: %d, chunks: %d); press Ctrl-C to stop",
                url, len(assistant.index.documents), assistant.index.chunk_count)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", root_path=settings.root_path)
