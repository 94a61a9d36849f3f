"""One server process: a FastAPI app with the JSON API at ``/api``, the
widget (``/embed.js``, ``/embed-example``), the source view, and the Gradio
UI mounted at ``/``; ``guard.Guard`` wraps it all: no request reaches a
route that ``access.ROUTES`` does not name, and each gets the checks its
kind of route needs (origins, token, admin token, rate limit, body size).

The index loads once at start-up; ``live.LiveAssistant`` takes questions in
turn and swaps in a rebuilt index without a restart. This module
imports FastAPI at the top and Gradio when the UI is on: only ``askdoc serve``
loads it, and there the chat page is built while the API already answers
(``later.py``).
"""

from __future__ import annotations

import logging
import mimetypes
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from assistant.app.assets import add_assets, static_text
from assistant.app.later import ChatPageLater
from assistant.app.library import Library
from assistant.app.live import LiveAssistant
from assistant.core import Assistant
from assistant.guard.guard import Guard, GuardSettings
from assistant.people.audit import AuditLog, AuditSettings
from assistant.people.identity import IdentityHeaders
from assistant.people.permissions import FILE_NAME as PERMISSIONS_FILE
from assistant.people.permissions import PermissionsFile, Readers
from assistant.routes.api import create_router, validation_message
from assistant.routes.chat_api import create_chat_router
from assistant.routes.chat_page import CSS, HEAD, LIMITED_UI_FUNCTIONS, FeedbackLog, build_ui, load_examples, theme
from assistant.routes.views import create_source_router
from index.errors import PermissionsError

if TYPE_CHECKING:
    from assistant.generation.generate import LLMSettings
    from assistant.people.oidc import OidcSettings

log = logging.getLogger(__name__)

# Module scripts are refused under any other type; not every system's table knows these.
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/wasm", ".wasm")


@dataclass(frozen=True)
class ServerSettings:
    index_dir: Path
    docs_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 7860
    root_path: str = ""
    allowed_origins: tuple[str, ...] = ()
    api_token: str | None = None
    rate_limit: int = 30
    admin_token: str | None = None  # allows adding and deleting documents (the documents panel, /api/documents)
    max_upload_mb: int = 50
    forwarded_allow_ips: tuple[str, ...] = ()  # proxies whose X-Forwarded-* headers count (clients.parse_proxies)
    llm: "LLMSettings | None" = None  # an OpenAI-compatible server that writes answers (checked) from the excerpts
    ui: bool = True  # the Gradio chat at / (off: API, widget and source views only, and no Gradio in memory)
    page_later: bool = False  # answer at once and build the chat page meanwhile (later.ChatPageLater; askdoc serve)
    trust_user_header: str | None = None  # who is asking, as the proxies of forwarded_allow_ips say
    trust_groups_header: str | None = None  # their groups, comma-separated
    permissions: Path | None = None  # who may read what (default: DOCS/.permissions.toml, when there is one)
    session_secret: str | None = None  # shared with the page's server, which mints widget sessions (/api/session)
    oidc: "OidcSettings | None" = None  # sign-in with an OpenID provider
    audit: AuditSettings | None = None  # the audit trail (default: INDEX/audit.jsonl); None: none

    @property
    def guard_settings(self) -> GuardSettings:
        return GuardSettings(allowed_origins=self.allowed_origins, api_token=self.api_token or None,
                      admin_token=self.admin_token or None, rate_limit=self.rate_limit, root_path=self.root_path,
                      max_upload_bytes=self.max_upload_mb * 2**20, trusted_proxies=self.forwarded_allow_ips,
                      identity=IdentityHeaders.of(self.trust_user_header, self.trust_groups_header),
                      session_secret=self.session_secret or None)

    def knows_users(self) -> bool:
        # The guard's OpenID sign-in is only made in create_app; the settings know whether there will be one.
        return self.guard_settings.knows_users() or self.oidc is not None

    def readers(self) -> Readers | None:
        """What each asker may read, when the server knows who asks; a
        ``PermissionsError`` for a permissions file that cannot be applied."""
        if not self.knows_users():
            if self.permissions is not None:
                raise PermissionsError("--permissions needs a sign-in (--trust-user-header, --oidc-issuer or "
                                       "--session-secret): askdoc must know who is asking")
            return None
        if self.trust_user_header and not self.forwarded_allow_ips:
            raise PermissionsError("--trust-user-header needs --forwarded-allow-ips: the addresses of the proxies "
                                   "whose identity headers askdoc may believe")
        if self.permissions is not None:
            return Readers(PermissionsFile(self.permissions))
        default = Path(self.docs_dir) / PERMISSIONS_FILE if self.docs_dir is not None else None
        return Readers(PermissionsFile(default) if default is not None and default.exists() else None)


def create_app(assistant: Assistant, settings: ServerSettings):
    """The whole server as one ASGI app."""
    readers = settings.readers()  # before anything starts: a bad permissions file stops the server
    served = LiveAssistant(assistant, settings.index_dir)
    served.readers = readers
    audit = AuditLog(settings.audit) if settings.audit is not None else None
    served.audit = audit
    served.start_watching()
    app = FastAPI(
        title="askdoc API", version=assistant.index.manifest.askdoc_version,
        description="Ask questions about a folder of documents; every answer quotes them, with citations.",
        docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
    )
    # The bundled (offline) Swagger UI reads OpenAPI 3.0 documents.
    app.openapi_version = "3.0.3"
    app.state.served = served
    if settings.llm is not None:
        from assistant.generation.generate import GROUNDING_EXCERPTS, Generator

        served.generator = Generator(settings.llm)
        assistant.settings = replace(assistant.settings, grounding_excerpts=GROUNDING_EXCERPTS)
        log.info("answers are written by %s (%s) and checked against the excerpts they cite",
                 settings.llm.endpoint, settings.llm.model or "its default model")
    library = Library(served, settings.docs_dir, settings.index_dir, settings.admin_token,
                      settings.max_upload_mb * 2**20)
    app.state.library = library
    app.include_router(create_router(served, library, audit))
    app.include_router(create_chat_router(served))

    @app.exception_handler(RequestValidationError)
    async def readable_422(request: Request, exc: RequestValidationError):
        return JSONResponse(status_code=422, content={"detail": validation_message(exc.errors()), "errors": jsonable(exc.errors())})

    add_assets(app)
    app.include_router(create_source_router(served, settings.docs_dir))

    guard_settings = settings.guard_settings
    if settings.oidc is not None:
        from assistant.people.oidc import OidcSignIn

        guard_settings = replace(guard_settings, oidc=OidcSignIn(settings.oidc))
    if settings.ui and settings.page_later:
        api_only = app

        def build():
            mounted = _with_ui(api_only, served, library, settings, audit)
            release_freed_memory()
            return mounted

        app.state.chat_page = "starting"
        later = ChatPageLater(app, build)
        guard = Guard(later, guard_settings)
        later.on_ready = guard.limit_events
        return guard
    app.state.chat_page = "ready" if settings.ui else "off"
    if settings.ui:
        app, limited = _with_ui(app, served, library, settings, audit)
        guard_settings = replace(guard_settings, limited_events=limited)
    else:
        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        def no_ui():
            return HTMLResponse(NO_UI_PAGE)
    release_freed_memory()
    return Guard(app, guard_settings)


NO_UI_PAGE = (
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>askdoc</title></head>"
    "<body style=\"font: 16px system-ui, sans-serif; margin: 2rem\"><h1>askdoc</h1>"
    "<p>This server answers through its API and widget only (started with <code>--no-ui</code>).</p>"
    "<ul><li><a href=\"embed-example\">the widget</a></li><li><a href=\"api/docs\">the API</a></li></ul></body></html>"
)


def _with_ui(app, served: LiveAssistant, library: Library, settings: ServerSettings, audit: AuditLog | None):
    """The Gradio chat mounted at ``/`` (Gradio is imported only here), and
    the indices of its functions that answer or write (rate-limited)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read once, when gradio is imported
    import gradio as gr

    feedback = FeedbackLog(Path(settings.index_dir) / "feedback.jsonl")
    demo = build_ui(served, feedback, load_examples(settings.docs_dir), library, audit)
    # UI handlers only await the model queue, so a UI question in flight
    # costs no thread: let as many run as one model batch holds, so that a
    # crowd of UI users is answered together rather than four at a time.
    demo.queue(default_concurrency_limit=served.max_batch)
    quiet_when_idle(demo)
    # The page takes no files: Gradio's own file checks stay on anyway. It
    # skips them while a mounted app "has not launched", so say it has, and
    # keep the documents and the index out of what it may ever serve.
    mounted = gr.mount_gradio_app(
        app, demo, path="/", theme=theme(), css=CSS,
        head=HEAD + "".join(f"<script>{static_text(name)}</script>" for name in ("documents.js", "insights.js")),
        footer_links=[],
        root_path=settings.root_path or None, ssr_mode=False, show_error=False,
        max_file_size=settings.max_upload_mb * 2**20, allowed_paths=[],
        blocked_paths=[str(Path(p).resolve()) for p in (settings.docs_dir, settings.index_dir) if p],
    )
    demo.has_launched = True
    return mounted, frozenset(i for i, fn in demo.fns.items() if fn.name in LIMITED_UI_FUNCTIONS)


IDLE_POLL_SECONDS = 0.02


def quiet_when_idle(demo) -> None:
    """Let Gradio's queue look for work 50 times a second when it has none.

    Gradio polls every millisecond on Linux and macOS (every 50 ms on
    Windows), which kept an idle askdoc server at about 7% of a core: a
    laptop's battery spent on nothing. A question now waits at most 20 ms
    more before it starts, against answers that take 100 ms or more.
    """
    queue = demo._queue  # no public setting; tests/assistant/app/test_server.py fails if Gradio renames these
    queue.sleep_when_free = max(queue.sleep_when_free, IDLE_POLL_SECONDS)
    queue.progress_update_sleep_when_free = max(queue.progress_update_sleep_when_free, IDLE_POLL_SECONDS * 5)


def release_freed_memory() -> None:
    """Hand back to the system what loading freed: the model file's bytes,
    parsed once into the graph, and Gradio's start-up garbage stay in the
    C allocator's free lists otherwise (about 30–60 MB of a serving
    process's RSS). glibc only; elsewhere nothing happens."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def jsonable(errors: Sequence[Any]) -> list[dict]:
    """Pydantic errors without the exception objects JSON cannot hold."""
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]


def serve(assistant: Assistant, settings: ServerSettings) -> None:
    import uvicorn

    app = create_app(assistant, settings)
    url = f"http://{settings.host}:{settings.port}{settings.root_path}/"
    if not settings.knows_users() and settings.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("askdoc knows no users: whoever reaches %s may ask about every document (sign-in through the "
                    "intranet's proxy: --trust-user-header, guide/security.md)", url)
    log.info("askdoc is serving %s (documents: %d, chunks: %d); press Ctrl-C to stop",
             url, len(assistant.index.documents), assistant.index.chunk_count)
    # Keep idle connections longer than a proxy or client pool would: a server
    # that closes first races the next request on that connection.
    # The guard reads X-Forwarded-* itself, from --forwarded-allow-ips only:
    # uvicorn's own reading (which trusts 127.0.0.1 by default) stays off.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", timeout_keep_alive=75,
                proxy_headers=False, server_header=False)
