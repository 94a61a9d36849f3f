"""The JSON HTTP API, mounted at ``/api`` beside the UI.

``POST /api/ask`` returns exactly what ``askdoc ask --json`` prints;
``POST /api/ask/stream`` sends the same answer as server-sent events
(``answer`` deltas, then ``citations``, then ``done``); ``GET /api/healthz``
describes the index. Pydantic lives here and nowhere else: it is the
boundary where untrusted JSON becomes the assistant's plain arguments.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, AsyncIterator, Literal, Sequence

from fastapi import APIRouter, File, Form, Header, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, field_validator

from assistant.answering.answer import Answer, Citation
from assistant.core import MAX_QUESTION_CHARS
from assistant.people.identity import asker_of
from assistant.routes.base import ServedAssistant, readable_ids, visible_to
from assistant.routes.stream import primed, text_deltas
from index.errors import AskdocError, IndexStateError

if TYPE_CHECKING:
    from assistant.app.library import Library
    from assistant.people.audit import AuditLog

log = logging.getLogger(__name__)

MAX_TURNS = 20


class Message(BaseModel):
    """One earlier message of the conversation."""

    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    question: str = Field(description="The question, 1 to 2,000 characters after trimming.")
    history: list[Message] = Field(default_factory=list, description="Earlier turns, oldest first; at most 20.")
    scope: str | list[str] | None = Field(
        default=None, description='Limit the search to a folder ("hr/") or to a list of document ids; '
                                  'an unknown document or a folder without documents is a 422.')

    @field_validator("question")
    @classmethod
    def _question_length(cls, value: str) -> str:
        value = " ".join(value.split())
        if not 1 <= len(value) <= MAX_QUESTION_CHARS:
            raise ValueError(f"the question must be 1 to {MAX_QUESTION_CHARS:,} characters after trimming (got {len(value):,})")
        return value

    @field_validator("history")
    @classmethod
    def _history_length(cls, value: list[Message]) -> list[Message]:
        if len(value) > MAX_TURNS:
            raise ValueError(f"at most {MAX_TURNS} history turns are accepted (got {len(value)})")
        return value


class AnswerOut(BaseModel):
    question: str
    answer: str
    abstained: bool
    citations: list[Citation]  # the assistant's own dataclass: one definition of the contract
    mode: Literal["extractive", "generated"] = Field(
        description="extractive: quotes; generated: an LLM's sentences, each checked against the excerpt it cites")
    dropped: int | None = Field(default=None, description="generated sentences that failed the check (never shown)")
    note: str | None = Field(default=None, description="why a generated answer fell back to quotes")


class Health(BaseModel):
    status: Literal["ok"]
    documents: int  # those the asker may read, on a server that knows its users
    chunks: int | None = None  # not told to askers on a server that knows its users
    sentences: int | None = None
    model: str
    built_at: str
    # The chat page: built while the API already answers ("starting"), "failed" (the log says why), or "off" (--no-ui).
    chat_page: Literal["ready", "starting", "failed", "off"] = "ready"


def sse(event: str, data: dict) -> str:
    """One server-sent event.

    >>> sse("done", {})
    'event: done\\ndata: {}\\n\\n'
    """
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def streamed_events(events) -> AsyncIterator[str]:
    """Server-sent events from ``ServedAssistant.answer_events``: ``answer`` deltas as
    the text arrives, then ``citations``, then ``done``."""
    async for kind, value in text_deltas(events):
        if kind == "text":
            yield sse("answer", {"text": value})
            continue
        final = value.to_dict()
        yield sse("citations", {k: final[k] for k in ("abstained", "citations", "mode", "dropped", "note", "short_answer")
                                    if k in final})
        yield sse("done", {"question": value.question, "answer": value.text})


def validation_message(errors: Sequence[Any]) -> str:
    """One readable line from pydantic's error list.

    >>> validation_message([{"loc": ("body", "question"), "msg": "Value error, too long"}])
    'question: too long'
    """
    parts = []
    for error in errors:
        loc = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def status_of(exc: AskdocError) -> int:
    """A bad question is the asker's error (422); an index or store that
    cannot answer right now (a vector engine down) is the server's (503)."""
    return 503 if isinstance(exc, IndexStateError) else 422


def create_router(served: ServedAssistant, library: "Library | None" = None, audit: "AuditLog | None" = None) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["askdoc"])
    if library is not None:
        _document_routes(router, library)
        if audit is not None:
            _insights_route(router, library, audit)

    async def answer_or_error(request: AskRequest, http: Request) -> Answer:
        try:
            return await served.answer(request.question, [t.model_dump() for t in request.history], request.scope,
                                         asker_of(http.scope))
        except AskdocError as exc:
            raise HTTPException(status_code=status_of(exc), detail=str(exc)) from exc

    @router.post("/ask", response_model=AnswerOut, response_model_exclude_none=True, summary="Ask a question",
                 description="The same JSON as `askdoc ask --json`: the answer, whether it abstained, and its citations.")
    async def ask(request: AskRequest, http: Request) -> JSONResponse:
        # The engine's own JSON, sent as it is: AnswerOut documents it, and
        # validating what the engine just built would only cost time.
        return JSONResponse((await answer_or_error(request, http)).to_dict())

    @router.post("/ask/stream", summary="Ask a question, streamed as server-sent events",
                 description="Events: `answer` (`{text}` deltas, in order: with an LLM, each sentence once it passed "
                             "its check), then `citations` (`{abstained, citations, mode}`, and `dropped`, `note` with "
                             "an LLM), then `done` (`{question, answer}`).",
                 response_class=StreamingResponse)
    async def ask_stream(request: AskRequest, http: Request) -> StreamingResponse:
        try:  # a bad question is a 422 before the stream starts
            events = await primed(served.answer_events(request.question, [t.model_dump() for t in request.history],
                                                       request.scope, asker_of(http.scope)))
        except AskdocError as exc:
            raise HTTPException(status_code=status_of(exc), detail=str(exc)) from exc
        return StreamingResponse(streamed_events(events), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.get("/healthz", response_model=Health, summary="The index being served")
    def healthz(http: Request) -> dict:
        m = served.index.manifest
        page = getattr(http.app.state, "chat_page", "ready")
        if served.readers is not None:  # counts would tell what an asker may not read
            return {"status": "ok", "documents": len(readable_ids(served, asker_of(http.scope))),
                    "model": m.model_id, "built_at": m.built_at, "chat_page": page}
        return {"status": "ok", "documents": len(m.documents), "chunks": m.chunks, "sentences": m.sentences,
                "model": m.model_id, "built_at": m.built_at, "chat_page": page}

    return router


def _insights_route(router: APIRouter, library: "Library", audit: "AuditLog") -> None:
    from assistant.errors import NotAllowed
    from assistant.guard.access import ADMIN_HEADER
    from assistant.people.audit import read
    from assistant.routes.insights import as_csv, insights

    @router.get("/insights", summary="What people asked and could not find (admin token)",
                description=f"From the audit trail: questions the documents could not answer (similar ones grouped), "
                            f"answers voted down, the most asked questions, documents never cited, counts per folder. "
                            f"`format=csv` for a spreadsheet. Needs the `{ADMIN_HEADER}` header.")
    def insights_report(format: Literal["json", "csv"] = "json", admin: str | None = Header(None, alias=ADMIN_HEADER)):
        try:
            library.authorize(admin)
        except NotAllowed as exc:
            raise HTTPException(status_code=403, detail=str(exc)) from exc
        report = insights(read(audit.settings.path), library.served.index.doc_ids)
        if format == "csv":
            return Response(as_csv(report), media_type="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="askdoc-insights.csv"'})
        return report


def _document_routes(router: APIRouter, library: "Library") -> None:
    from assistant.errors import BadUpload, Conflict, NotAllowed, TooLarge
    from assistant.guard.access import ADMIN_HEADER

    def refused(exc: Exception) -> HTTPException:
        status = 403 if isinstance(exc, NotAllowed) else 409 if isinstance(exc, Conflict) else \
            413 if isinstance(exc, TooLarge) else 422
        return HTTPException(status_code=status, detail=str(exc))

    @router.get("/documents", summary="The indexed documents, the skipped files and the refresh in progress")
    def documents(http: Request) -> dict:
        return library.listing(visible_to(library.served, asker_of(http.scope)))

    @router.post("/documents", status_code=201, summary="Add documents (admin token)",
                 description=f"Multipart form: `file` (one or more), optional `folder` (`hr/`) and `replace` "
                             f"(`true` to overwrite a file of the same name). Needs the `{ADMIN_HEADER}` header. "
                             "The index refreshes in the background: `GET /api/documents` shows its progress.")
    async def add_documents(file: list[UploadFile] = File(...), folder: str = Form(""), replace: bool = Form(False),
                            admin: str | None = Header(None, alias=ADMIN_HEADER)) -> dict:
        # Each file arrived in a temporary file (the guard counted its bytes):
        # none is read into memory whole, and all are stored or none.
        try:
            added = library.add_many(admin, [(upload.filename or "", upload.file) for upload in file], folder, replace)
        except (NotAllowed, BadUpload, Conflict) as exc:
            raise refused(exc) from exc
        finally:
            for upload in file:
                await upload.close()
        return {"added": added, "refresh": library.listing()["refresh"]}

    @router.delete("/documents/{doc_id:path}", summary="Delete a document (admin token)")
    def delete_document(doc_id: str, admin: str | None = Header(None, alias=ADMIN_HEADER)) -> dict:
        try:
            library.remove(admin, doc_id)
        except KeyError:
            raise HTTPException(status_code=404, detail=f"no document {doc_id!r}") from None
        except (NotAllowed, BadUpload) as exc:
            raise refused(exc) from exc
        return {"deleted": doc_id, "refresh": library.listing()["refresh"]}
