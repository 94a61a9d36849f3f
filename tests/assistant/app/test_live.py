from __future__ import annotations

import threading
import time

from assistant.app.live import LiveAssistant
from assistant.core import Assistant
from index.build import build_index
from index.storage import builds

DOCS = {"a.txt": "Apples are red. Apples grow on trees in orchards."}
QUESTIONS = ["Where do apples grow?", "Are apples red?"]


def test_concurrent_questions_are_answered_in_batches(write_docs, tmp_path):
    from tests.support import HashEmbedder

    class Counting(HashEmbedder):
        calls: list[int] = []

        def encode(self, texts, progress=None):
            time.sleep(0.05)  # a forward pass takes time, so callers pile up
            self.calls.append(len(texts))
            return super().encode(texts, progress)

    docs = write_docs(DOCS)
    embedder = Counting()
    build_index(docs, tmp_path / "index", embedder)
    embedder.calls.clear()
    live = LiveAssistant(Assistant.load(tmp_path / "index", embedder=embedder))
    answers: dict[int, object] = {}

    def ask(i: int) -> None:
        try:
            answers[i] = live.ask("" if i == 7 else QUESTIONS[i % 2])
        except Exception as exc:  # noqa: BLE001
            answers[i] = exc

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(answers) == 20
    assert type(answers[7]).__name__ == "QuestionError"  # a bad question fails alone
    assert all(answers[i].question == QUESTIONS[i % 2] and not answers[i].abstained for i in answers if i != 7)
    assert len(embedder.calls) < 20 and max(embedder.calls) > 1  # batched


def test_a_published_build_is_swapped_in(write_docs, fake_embedder, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    build_index(docs, root, fake_embedder)
    live = LiveAssistant(Assistant.load(root, embedder=fake_embedder), root)
    assert not live.reload_if_changed()
    (docs / "b.txt").write_text("Bananas are yellow and curved.")
    build_index(docs, root, fake_embedder)
    assert live.reload_if_changed()
    assert [d.id for d in live.index.documents] == ["a.txt", "b.txt"]
    assert live.ask("Why are bananas yellow and curved?").citations[0].source == "b.txt"


def test_a_broken_build_keeps_the_old_index(write_docs, fake_embedder, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    build_index(docs, root, fake_embedder)
    live = LiveAssistant(Assistant.load(root, embedder=fake_embedder), root)
    (docs / "b.txt").write_text("Bananas are yellow.")
    build_index(docs, root, fake_embedder)
    (builds.current_build(root) / "spans.npz").write_bytes(b"garbage")
    assert not live.reload_if_changed()
    assert [d.id for d in live.index.documents] == ["a.txt"]
    assert not live.ask("Where do apples grow?").abstained


def test_no_question_fails_while_the_index_is_swapped(write_docs, fake_embedder, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    build_index(docs, root, fake_embedder)
    live = LiveAssistant(Assistant.load(root, embedder=fake_embedder), root, poll_seconds=0.01)
    live.start_watching()
    failures: list[BaseException] = []
    answered = 0
    stop = threading.Event()

    def keep_asking():
        nonlocal answered
        while not stop.is_set():
            try:
                live.ask("Where do apples grow?")
                answered += 1
            except BaseException as exc:  # noqa: BLE001 - any failure counts
                failures.append(exc)

    askers = [threading.Thread(target=keep_asking) for _ in range(3)]
    for t in askers:
        t.start()
    for i in range(5):
        (docs / f"extra{i}.txt").write_text(f"Extra document number {i} about pears.")
        build_index(docs, root, fake_embedder)
        time.sleep(0.05)
    deadline = time.monotonic() + 5
    while len(live.index.documents) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    live.stop_watching()
    for t in askers:
        t.join(5)
    assert failures == [] and answered > 10
    assert len(live.index.documents) == 6
