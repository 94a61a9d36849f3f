"""askdoc as a model behind the OpenAI chat-completions API, for chat
front-ends (Open WebUI, LibreChat, editor plug-ins, the ``openai`` client):
``GET /v1/models`` and ``POST /v1/chat/completions``, plain or ``stream:
true`` (OpenAI's server-sent ``chat.completion.chunk`` events, then
``[DONE]``).

The last user message is the question, the earlier user and assistant
messages its history (system messages are ignored: askdoc's rules are its
own). The reply is the answer with its ``[n]`` markers, then a short
Sources list (document, place, excerpt). The same guard as ``/api`` applies
(token, origins, rate limit, body size); an LLM behind askdoc is used when
configured, as everywhere else.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import AsyncIterator, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.answering.answer import Answer
from assistant.people.identity import asker_of
from assistant.routes.base import ServedAssistant
from assistant.routes.stream import primed, text_deltas
from index.errors import AskdocError, IndexStateError

MODEL_ID = "askdoc"
EXCERPT_CHARS = 240


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict] | None = None

    def text(self) -> str:
        """The message's text (a list of parts keeps its text parts)."""
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # temperature, top_p, … mean nothing to askdoc

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1, max_length=50)
    stream: bool = False


def sources_text(answer: Answer) -> str:
    """The Sources list that follows an answer in a chat reply.

    >>> from assistant.answering.answer import Citation
    >>> print(sources_text(Answer("q", "A. [1]", False, (Citation(1, "d.pdf", 0, 2, "A.", 1.0, 0, 2, page=3),))))
    <BLANKLINE>
    <BLANKLINE>
    Sources:
    [1] d.pdf, page 3: "A."
    """
    if answer.abstained or not answer.citations:
        return ""
    lines = []
    for c in answer.citations:
        excerpt = " ".join(c.text.split())
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[: EXCERPT_CHARS - 1].rsplit(" ", 1)[0] + "…"
        lines.append(f"[{c.n}] {c.source}{', ' + c.place if c.place else ''}: \"{excerpt}\"")
    return "\n\nSources:\n" + "\n".join(lines)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"message": message, "type": "invalid_request_error",
                                                                "param": None, "code": None}})


def create_chat_router(served: ServedAssistant) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

    @router.get("/models", summary="The one model askdoc serves")
    def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "askdoc"}]}

    @router.post("/chat/completions", summary="Answer the last user message (OpenAI chat-completions format)")
    async def completions(request: ChatRequest, http: Request):
        users = [i for i, m in enumerate(request.messages) if m.role == "user"]
        if not users or not request.messages[users[-1]].text().strip():
            return _error(400, "the last user message is the question, and there is none")
        question = request.messages[users[-1]].text()
        history = [{"role": m.role, "content": m.text()} for m in request.messages[: users[-1]]
                   if m.role in ("user", "assistant")][-20:]
        created, ident = int(time.time()), f"chatcmpl-{uuid.uuid4().hex}"
        try:
            events = await primed(served.answer_events(question, history, None, asker_of(http.scope)))
        except AskdocError as exc:
            return _error(503 if isinstance(exc, IndexStateError) else 400, str(exc))
        if not request.stream:
            answer = [value async for event, value in events if event == "answer"][-1]
            content = answer.text + sources_text(answer)
            return {
                "id": ident, "object": "chat.completion", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
        return StreamingResponse(_chunks(events, ident, created), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return router


async def _chunks(events, ident: str, created: int) -> AsyncIterator[str]:
    """OpenAI's streaming format: a role chunk, content chunks a sentence at
    a time, the Sources, a closing chunk, then ``[DONE]``."""

    def chunk(delta: dict, finish: str | None = None) -> str:
        body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    async for kind, value in text_deltas(events):
        yield chunk({"content": value if kind == "text" else sources_text(value)})
    yield chunk({}, "stop")
    yield "data: [DONE]\n\n"
