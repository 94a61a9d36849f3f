"""Optional generated answers: an LLM behind any OpenAI-compatible
chat-completions server (llama.cpp, Ollama, vLLM, a gateway) writes prose
from the best excerpts, and only sentences that pass ``check`` against the
excerpts they cite reach a user.

The model gets the question, the conversation and the excerpts, numbered,
and is asked to end every sentence with the numbers it rests on. Each
sentence of its reply is then checked on its own (``check``):

- it cites at least one excerpt, and only excerpts that were given;
- every number in it stands in the cited excerpts or the question;
- every name (a capitalized word that is not the sentence's first) does too;
- a negation ("not", "never", "no", "n't", "without") appears only when the
  cited excerpts hold one (a model must not turn "met" into "did not meet");
- at least ``MIN_SUPPORT`` (80%) of its content words (stemmed, stopwords
  aside: ``index.storage.lexical.tokenize``) stand in the cited excerpts or the
  question.

A sentence that fails is dropped, never shown. When none passes, or the
server errs, answers garbage or exceeds the timeout, the extractive answer
is served with a ``note`` saying so. Citations keep their exact offsets:
each is an excerpt ``document[start:end]``, its highlights the excerpt's
sentences that share most words with the generated ones citing it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, replace
from typing import Any, AsyncIterator, Iterable

from assistant.answering.answer import Answer, Citation, Quote
from assistant.generation.checks import Verdict, check, markers_inside, split_generated, supporting_sentence
from index.documents.segment import split_sentences

log = logging.getLogger(__name__)

GROUNDING_EXCERPTS = 6  # excerpts the model is given

SYSTEM = (
    "You answer questions about documents using only the numbered excerpts you are given. "
    "Write one to three short sentences. End every sentence with the number of the excerpt it comes from, "
    "in square brackets. Use only facts, names and numbers that are written in that excerpt. "
    "Do not add anything the excerpts do not say."
)
# One worked exchange before the real one: small models copy a format they have seen.
EXAMPLE = [
    {"role": "user", "content": "Excerpts:\n[1] The old bridge over the Tamar opened in 1932 after four years of "
                                "work.\n[2] Tolls were dropped in 1960.\nQuestion: When did the bridge open, and "
                                "when were tolls dropped?"},
    {"role": "assistant", "content": "The old bridge over the Tamar opened in 1932. [1] Tolls were dropped in 1960. [2]"},
]


@dataclass(frozen=True)
class LLMSettings:
    """Where the generator is and how long it may take."""

    url: str  # the server's base URL: http://localhost:11434/v1 (or without /v1)
    model: str = ""
    api_key: str | None = None
    timeout: float = 20.0  # seconds for the whole answer
    max_tokens: int = 300

    @property
    def endpoint(self) -> str:
        """The chat-completions URL, with or without ``/v1`` in ``url``.

        >>> LLMSettings("http://h:8080").endpoint, LLMSettings("http://h:11434/v1/").endpoint
        ('http://h:8080/v1/chat/completions', 'http://h:11434/v1/chat/completions')
        """
        base = self.url.rstrip("/")
        return (base if base.endswith("/v1") else base + "/v1") + "/chat/completions"


def build_messages(question: str, history: list[dict], excerpts: Iterable[Citation]) -> list[dict]:
    """The chat messages for the model: instructions, the conversation, then
    the numbered excerpts and the question."""
    listed = "\n".join(f"[{c.n}] {' '.join(c.text.split())}" for c in excerpts)
    messages = [{"role": "system", "content": SYSTEM}, *EXAMPLE]
    messages += [{"role": t["role"], "content": t["content"]} for t in history if t.get("role") in ("user", "assistant")]
    messages.append({"role": "user", "content": f"Excerpts:\n{listed}\nQuestion: {question}"})
    return messages


class Numbering:
    """Final citation numbers in the order the kept sentences first cite
    excerpts, so an answer streamed a sentence at a time is numbered 1, 2, …"""

    def __init__(self, excerpts: dict[int, Citation]) -> None:
        self.excerpts = excerpts
        self.final: dict[int, int] = {}
        self.highlights: dict[int, list[tuple[int, int]]] = {}

    def add(self, verdict: Verdict) -> Quote:
        numbers = []
        for m in verdict.markers:
            n = self.final.setdefault(m, len(self.final) + 1)
            numbers.append(n)
            span = supporting_sentence(self.excerpts[m], verdict.text)
            if span not in self.highlights.setdefault(m, []):
                self.highlights[m].append(span)
        return Quote(verdict.text, tuple(dict.fromkeys(numbers)))

    def citations(self) -> tuple[Citation, ...]:
        out = []
        for m, n in sorted(self.final.items(), key=lambda item: item[1]):
            c, spans = self.excerpts[m], tuple(self.highlights[m])
            out.append(replace(c, n=n, highlight_start=spans[0][0], highlight_end=spans[0][1], highlights=spans))
        return tuple(out)


def generated_answer(extractive: Answer, quotes: list[Quote], numbering: Numbering, dropped: int) -> Answer:
    return Answer(question=extractive.question, text=" ".join(f"{q.text} {q.markers}" for q in quotes),
                  abstained=False, citations=numbering.citations(), quotes=tuple(quotes), mode="generated",
                  dropped=dropped)


def fallback(extractive: Answer, why: str, dropped: int = 0) -> Answer:
    log.info("serving the extractive answer: %s", why)
    return replace(extractive, note=f"{why}; these are quotes from the documents instead", dropped=dropped)


REWRITE_SYSTEM = (
    "Rewrite the user's last question so that it can be understood without the conversation: replace words like "
    "'he', 'it' or 'that' with what they refer to. Use only words from the conversation and the question. "
    "Reply with the rewritten question only."
)


def rewrite_allowed(rewritten: str, question: str, history: list[dict]) -> bool:
    """May a follow-up's rewrite be searched for: every word of it taken from
    the question or the conversation, and not much longer than they are?

    >>> h = [{"role": "user", "content": "When did the canal open?"}, {"role": "assistant", "content": "In 1990."}]
    >>> rewrite_allowed("Why did the canal open in 1990?", "Why did it open?", h)
    True
    >>> rewrite_allowed("Why did the bridge collapse?", "Why did it open?", h)
    False
    """
    allowed = {w.lower() for w in re.findall(r"\w+", " ".join([question] + [t["content"] for t in history]))}
    words = [w.lower() for w in re.findall(r"\w+", rewritten)]
    return bool(words) and all(w in allowed for w in words) and len(rewritten) <= 3 * len(question) + 200


class Generator:
    """Generated answers from an OpenAI-compatible server, checked sentence
    by sentence; the extractive answer whenever that fails."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        return headers

    def _body(self, extractive: Answer, history: list[dict], stream: bool) -> dict:
        body = {"messages": build_messages(extractive.question, history, extractive.grounding),
                "temperature": 0, "max_tokens": self.settings.max_tokens, "stream": stream}
        if self.settings.model:
            body["model"] = self.settings.model
        return body

    async def rewrite(self, question: str, history: list[dict]) -> str | None:
        """The follow-up ``question`` made to stand alone by the model, when
        the rewrite passes ``rewrite_allowed``; None otherwise (the rules in
        ``query.resolve_follow_up`` then apply)."""
        import httpx

        turns = [{"role": t["role"], "content": t["content"]} for t in history[-6:] if t.get("role") in ("user", "assistant")]
        body = {"messages": [{"role": "system", "content": REWRITE_SYSTEM}, *turns,
                             {"role": "user", "content": f"Question: {question}"}],
                "temperature": 0, "max_tokens": 80, "stream": False}
        if self.settings.model:
            body["model"] = self.settings.model
        try:
            async with httpx.AsyncClient(timeout=min(10.0, self.settings.timeout)) as client:
                async with client.stream("POST", self.settings.endpoint, headers=self._headers(), json=body) as response:
                    if response.status_code != 200:
                        return None
                    text = "".join([piece async for piece in _deltas(response, time.monotonic() + self.settings.timeout)])
        except (TimeoutError, httpx.HTTPError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None
        text = " ".join(text.replace("Question:", " ").split()).strip("\"' ")
        if not rewrite_allowed(text, question, history):
            log.info("not using the model's rewrite of %r: %r", question, text)
            return None
        return text

    async def answer(self, extractive: Answer, history: list[dict] | None = None) -> Answer:
        """The generated answer, or ``extractive`` with a note."""
        final = extractive
        async for event, value in self.stream(extractive, history):
            if event == "answer":
                final = value
        return final

    async def stream(self, extractive: Answer, history: list[dict] | None = None
                     ) -> AsyncIterator[tuple[str, Any]]:
        """``("sentence", Quote)`` for each sentence as it passes the check
        (numbered in final order), then ``("answer", Answer)``: the
        generated answer, or the extractive one with a note."""
        if extractive.abstained or not extractive.grounding:
            yield "answer", extractive
            return
        import httpx

        excerpts = {c.n: c for c in extractive.grounding}
        numbering, quotes, dropped = Numbering(excerpts), [], 0
        deadline = time.monotonic() + self.settings.timeout

        def judged(text: str) -> list[Verdict]:
            return [Verdict(t, m, check(t, m, excerpts, extractive.question)) for t, m in split_generated(text)]

        def take(found: list[Verdict]) -> list[Quote]:
            """The checked sentences of ``found``, numbered; the others counted and logged."""
            nonlocal dropped
            kept = []
            for verdict in found:
                if verdict.kept:
                    kept.append(numbering.add(verdict))
                else:
                    dropped += 1
                    log.info("dropped a generated sentence (%s): %r", verdict.reason, verdict.text)
            quotes.extend(kept)
            return kept

        pending, ready = "", []
        try:
            timeout = httpx.Timeout(self.settings.timeout, connect=min(5.0, self.settings.timeout))
            async with httpx.AsyncClient(timeout=timeout) as client:
                async with client.stream("POST", self.settings.endpoint, headers=self._headers(),
                                         json=self._body(extractive, history or [], True)) as response:
                    if response.status_code != 200:
                        await response.aread()
                        yield "answer", fallback(extractive, f"the language model server answered {response.status_code}")
                        return
                    async for piece in _deltas(response, deadline):
                        complete, pending = settled(pending + piece)
                        for quote in take(judged(complete)):
                            yield "sentence", quote
            ready = judged(pending)
        except (TimeoutError, httpx.TimeoutException):
            if not quotes:
                yield "answer", fallback(extractive, f"the language model took longer than {self.settings.timeout:g} s")
                return
            log.info("the language model was cut off after %g s; keeping the checked sentences", self.settings.timeout)
        except (httpx.HTTPError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            yield "answer", fallback(extractive, f"the language model server failed ({type(exc).__name__})")
            return
        for quote in take(ready):
            yield "sentence", quote
        if not quotes:
            yield "answer", fallback(extractive, "no sentence the language model wrote could be checked against "
                                                 "the documents", dropped)
            return
        yield "answer", generated_answer(extractive, quotes, numbering, dropped)


def settled(text: str) -> tuple[str, str]:
    """``text`` cut into its finished sentences and the sentence still being
    written: a sentence is finished once the next one has begun, its
    closing markers ("[1]") with it.

    >>> settled("Singh met Dong Jun. [1] They spo")
    ('Singh met Dong Jun [1]. ', 'They spo')
    >>> settled("Singh met Dong Jun. [1")
    ('', 'Singh met Dong Jun. [1')
    """
    text = markers_inside(text)
    spans = split_sentences(text)
    if len(spans) < 2:
        return "", text
    cut = spans[-1].start
    if not re.search(r"[^\W\d_]", re.sub(r"^(\s*\[\d*\]?)+", "", text[cut:])):
        return "", text  # nothing of the next sentence yet, or only part of a marker
    return text[:cut], text[cut:]


async def _deltas(response, deadline: float) -> AsyncIterator[str]:
    """Text pieces of an OpenAI-style reply: server-sent ``chat.completion.chunk``
    events, or one plain JSON ``chat.completion`` from a server that ignores
    ``stream``. ``TimeoutError`` past ``deadline``; ``ValueError`` on garbage."""
    streamed = response.headers.get("content-type", "").startswith("text/event-stream")
    if not streamed:
        body = json.loads(await response.aread())
        yield body["choices"][0]["message"]["content"] or ""
        return
    async for line in response.aiter_lines():
        if time.monotonic() > deadline:
            raise TimeoutError
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        chunk = json.loads(data)
        choices = chunk.get("choices") or []
        if choices:
            piece = (choices[0].get("delta") or {}).get("content")
            if piece:
                yield piece
