"""The assistant behind a running server: one model thread answering in
arrival order, in batches, and a rebuilt index picked up without a restart.

Every question, from the UI or the API, joins one first-come-first-served
queue. A single worker thread takes whatever has queued up (up to
``max_batch``) and answers it with one forward pass of the model
(``Assistant.ask_many``): under load, 50 waiting questions cost little more
than one, no caller can starve another, and torch allocates from one thread
only, so memory stays flat instead of growing an arena per request thread.

A watcher polls the index directory's ``current`` link. When a build is
published (by ``askdoc index`` in another process), it loads the new build
beside the old one and swaps them in one assignment: a question in flight
finishes on the index it started with, the next one uses the new index, and
no request fails during the swap. A build that fails to load is logged and
the old index keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator

from assistant.answering.answer import NOT_FOUND, Answer
from assistant.core import Assistant
from assistant.people.audit import AuditLog
from assistant.people.identity import Asker
from assistant.people.permissions import Readers
from assistant.retrieval.query import is_follow_up
from assistant.retrieval.scope import Scope
from index.errors import AskdocError
from index.storage import builds

if TYPE_CHECKING:
    from assistant.generation.generate import Generator

log = logging.getLogger(__name__)


class LiveAssistant:
    """What the server asks: one ``Assistant`` at a time, swapped on rebuild."""

    def __init__(self, assistant: Assistant, index_dir: Path | None = None, poll_seconds: float = 2.0,
                 max_batch: int = 32) -> None:
        self.assistant = assistant
        self.index_dir = Path(index_dir) if index_dir else None
        self.poll_seconds = poll_seconds
        self.max_batch = max_batch
        self._build = builds.current_build(self.index_dir) if self.index_dir else None
        self.generator: Generator | None = None  # set when an LLM writes the answers
        self.readers: Readers | None = None  # set when the server knows who asks: each reads only what they may
        self.audit: AuditLog | None = None  # set when each answer is recorded (audit.py)
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._answer_forever, name="askdoc-model", daemon=True)
        self._worker.start()

    @property
    def index(self) -> builds.Index:
        return self.assistant.index

    def submit(self, question: str, history: list[dict] | None = None, scope=None, asker: Asker | None = None) -> Future:
        """Queue a question; the future resolves to its ``Answer`` (or the
        error ``Assistant.ask`` would raise). With ``readers``, the question
        searches only what ``asker`` may read (no asker: nothing)."""
        future: Future = Future()
        if self.audit is not None:
            audit, requested = self.audit, scope

            def record(done: Future) -> None:
                if not done.cancelled() and done.exception() is None:
                    audit.answered(asker, question, requested, done.result())

            future.add_done_callback(record)
        if self.readers is not None:
            try:
                scope = self.readers.scope_for(asker, self.index.doc_ids, Scope.parse(scope))
            except AskdocError as exc:  # a scope or permissions error: raised where the answer is awaited
                future.set_exception(exc)
                return future
            if scope is not None and not scope.entries:
                future.set_result(Answer(question=question, text=NOT_FOUND, abstained=True))
                return future
        self._queue.put((question, history, scope, future))
        return future

    def ask(self, question: str, history: list[dict] | None = None, scope=None, asker: Asker | None = None) -> Answer:
        """Queue the question and wait for its answer, blocking this thread."""
        return self.submit(question, history, scope, asker).result()

    async def ask_async(self, question: str, history: list[dict] | None = None, scope=None,
                        asker: Asker | None = None) -> Answer:
        """Queue the question and wait for its answer without holding a thread.

        The server's handlers use this: waiting in threads would let a crowd
        of API callers fill the thread pool that the UI's events need too.
        """
        return await asyncio.wrap_future(self.submit(question, history, scope, asker))

    async def answer(self, question: str, history: list[dict] | None = None, scope=None,
                     asker: Asker | None = None) -> Answer:
        """The answer a user sees: generated and checked when an LLM is
        configured (``generator``), else (and on any failure) quotes."""
        if self.generator is None:
            return await self.ask_async(question, history, scope, asker)
        final: Answer | None = None
        async for event, value in self.answer_events(question, history, scope, asker):
            if event == "answer":
                final = value
        if final is None:
            raise RuntimeError("the answer stream ended without an answer")
        return final

    async def answer_events(self, question: str, history: list[dict] | None = None,
                            scope=None, asker: Asker | None = None) -> AsyncIterator[tuple[str, Any]]:
        """``("sentence", Quote)`` for each generated sentence as it passes
        its check, then ``("answer", Answer)``; only the latter without an LLM.
        A bad question raises its ``QuestionError`` before anything is yielded."""
        if self.generator is None:
            yield "answer", await self.ask_async(question, history, scope, asker)
            return
        searched = question
        if history and is_follow_up(question):
            # The model may say what "that" means; a rewrite using words from
            # nowhere in the conversation is refused and the rules apply.
            searched = await self.generator.rewrite(question, history) or question
        extractive = await self.ask_async(searched, history, scope, asker)
        async for event, value in self.generator.stream(extractive, history):
            yield event, (replace(value, question=question) if event == "answer" else value)

    def _answer_forever(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            assistant = self.assistant  # one reference: a swap mid-batch changes nothing
            try:
                answers = assistant.ask_many([(q, h, scope) for q, h, scope, _ in batch])
            except BaseException as exc:  # noqa: BLE001 - the callers must hear of it, the worker must live
                for *_, future in batch:
                    future.set_exception(exc)
                continue
            for (*_, future), answer in zip(batch, answers):
                if isinstance(answer, Exception):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)

    def reload_if_changed(self) -> bool:
        """Load and swap in a newly published build; True when it did."""
        if self.index_dir is None:
            return False
        build = builds.current_build(self.index_dir)
        if build is None or build == self._build:
            return False
        old = self.assistant
        try:
            # The same settings (a generator's grounding included) and the reader already loaded.
            fresh = Assistant(builds.load(self.index_dir, old.embedder.model_id), old.embedder,
                              replace(old.params, answer=old.settings), old.reader)
        except AskdocError as exc:
            log.warning("a new index was published in %s but cannot be loaded (%s); still serving the previous one",
                        self.index_dir, exc)
            self._build = build  # do not retry the same broken build every poll
            return False
        self.assistant = fresh
        self._build = build
        m = fresh.index.manifest
        log.info("now serving the index built %s (%d documents, %d chunks)", m.built_at, len(m.documents), m.chunks)
        return True

    def start_watching(self) -> None:
        if self.index_dir is None or self._watcher is not None:
            return
        self._watcher = threading.Thread(target=self._watch, name="askdoc-index-watcher", daemon=True)
        self._watcher.start()

    def stop_watching(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.reload_if_changed()
            except Exception:  # the watcher must outlive any one bad build
                log.exception("checking %s for a new index failed", self.index_dir)
