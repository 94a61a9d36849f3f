"""The assistant behind a running server: fair turns, and a rebuilt index
picked up without a restart.

Questions take turns first come, first served (``FairLock``): the model's
forward pass already uses every core, so running two at once only slows both,
and a plain lock could let a burst of API calls starve a UI user.

A watcher polls the index directory's ``current`` link. When a build is
published (by ``askdoc index`` in another process), it loads the new build
beside the old one and swaps them in one assignment: a question in flight
finishes on the index it started with, the next one uses the new index, and
no request fails during the swap. A build that fails to load is logged and
the old index keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from pathlib import Path

from index import store
from index.errors import AskdocError

from .answer import Answer
from .engine import Assistant

log = logging.getLogger(__name__)


class FairLock:
    """A mutex granted in arrival order.

    >>> lock = FairLock()
    >>> with lock:
    ...     lock.locked()
    True
    >>> lock.locked()
    False
    """

    def __init__(self) -> None:
        self._state = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False

    def locked(self) -> bool:
        return self._held

    def __enter__(self) -> "FairLock":
        with self._state:
            if not self._held and not self._waiters:
                self._held = True
                return self
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()  # the releasing thread hands the lock over, still held
        return self

    def __exit__(self, *exc) -> None:
        with self._state:
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._held = False


class LiveAssistant:
    """What the server asks: one ``Assistant`` at a time, swapped on rebuild."""

    def __init__(self, assistant: Assistant, index_dir: Path | None = None, poll_seconds: float = 2.0) -> None:
        self.assistant = assistant
        self.index_dir = Path(index_dir) if index_dir else None
        self.poll_seconds = poll_seconds
        self._turns = FairLock()
        self._build = store.current_build(self.index_dir) if self.index_dir else None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def index(self) -> store.Index:
        return self.assistant.index

    def ask(self, question: str, history: list[dict] | None = None) -> Answer:
        assistant = self.assistant  # one reference: a swap mid-question changes nothing
        with self._turns:
            return assistant.ask(question, history)

    def reload_if_changed(self) -> bool:
        """Load and swap in a newly published build; True when it did."""
        if self.index_dir is None:
            return False
        build = store.current_build(self.index_dir)
        if build is None or build == self._build:
            return False
        old = self.assistant
        try:
            fresh = Assistant(store.load(self.index_dir, old.embedder.model_id), old.embedder, old.retriever.weights,
                              old.config)
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
