from __future__ import annotations

import threading
import time

from assistant.engine import Assistant
from assistant.live import FairLock, LiveAssistant
from index import store
from index.build import build_index

DOCS = {"a.txt": "Apples are red. Apples grow on trees in orchards."}


def test_fair_lock_serves_in_arrival_order():
    lock = FairLock()
    order: list[int] = []
    lock.__enter__()
    threads = []
    for i in range(5):
        t = threading.Thread(target=lambda i=i: (lock.__enter__(), order.append(i), lock.__exit__(None, None, None)))
        t.start()
        threads.append(t)
        time.sleep(0.05)  # arrive one after another
    lock.__exit__(None, None, None)
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4] and not lock.locked()


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
    (store.current_build(root) / "spans.npz").write_bytes(b"garbage")
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
