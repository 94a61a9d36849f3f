"""The server's routes and the UI's pure helpers, without a browser (the
browser tests are in test_ui.py)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from assistant.answering.answer import Answer, Citation
from assistant.app.server import ServerSettings, create_app
from assistant.core import Assistant, Turn, history_of
from assistant.routes.chat_page import FeedbackLog, load_examples, reveal
from assistant.routes.render import answer_markdown
from index.build import build_index

# Integration tier (tests/README.md): the whole app in-process, one in a subprocess.
pytestmark = pytest.mark.integration

DOC = "Alpha line. The <b>bold</b> claim sits here. Omega line.\n"


@pytest.fixture
def client(write_docs, fake_embedder, tmp_path):
    docs = write_docs({"notes/a.txt": DOC, ".examples": "First example?\n# a comment\n\nSecond example?\n"})
    build_index(docs, tmp_path / "index", fake_embedder)
    assistant = Assistant.load(tmp_path / "index", embedder=fake_embedder)
    app = create_app(assistant, ServerSettings(index_dir=tmp_path / "index", docs_dir=docs))
    with TestClient(app) as c:
        yield c


def test_source_view_marks_the_excerpt(client):
    start = DOC.index("The")
    end = DOC.index("Omega") - 1
    response = client.get("/source", params={"doc": "notes/a.txt", "start": start, "end": end, "hs": start, "he": end})
    assert response.status_code == 200
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert '<mark class="sentence">The &lt;b&gt;bold&lt;/b&gt; claim sits here.</mark>' in response.text
    bold = DOC.index("<b>bold</b>")
    marked = client.get("/source", params={"doc": "notes/a.txt", "start": start, "end": end, "hs": start, "he": end,
                                           "a": f"{bold}-{bold + 11}"})
    assert 'The <strong class="answer">&lt;b&gt;bold&lt;/b&gt;</strong> claim' in marked.text  # the words that answer
    assert "answer" not in client.get("/source", params={"doc": "notes/a.txt", "start": start, "end": end,
                                                         "a": "x-y"}).text.split("<main>")[1]  # malformed: ignored


def test_source_view_unknown_document_is_404(client):
    assert client.get("/source", params={"doc": "nope.txt"}).status_code == 404


def test_ui_is_mounted_at_root(client):
    response = client.get("/")
    assert response.status_code == 200 and "<html" in response.text.lower()


def test_examples_file_is_read_without_comments(tmp_path):
    (tmp_path / ".examples").write_text("One?\n# skip\n\nTwo?\n")
    assert load_examples(tmp_path) == ["One?", "Two?"]
    assert load_examples(tmp_path / "missing") == [] and load_examples(None) == []


def test_feedback_log_appends_json_lines(tmp_path):
    log = FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    citation = Citation(1, "a.txt", 0, 5, "Alpha", 1.0, 0, 5)
    turn = Turn("q?", Answer("q?", "Alpha [1]", False, (citation,)))
    log.record(turn, True)
    log.record(turn, False)
    lines = [json.loads(line) for line in (tmp_path / "sub" / "feedback.jsonl").read_text().splitlines()]
    assert [line["vote"] for line in lines] == ["up", "down"]
    assert lines[0]["citations"][0]["text"] == "Alpha" and lines[0]["question"] == "q?" and lines[0]["time"].endswith("Z")


def test_reveal_grows_to_the_whole_answer():
    answer = Answer("q", "One. [1] Two (2). [2]", False, (
        Citation(1, "a.txt", 0, 4, "One.", 1.0, 0, 4), Citation(2, "a.txt", 5, 13, "Two (2).", 1.0, 5, 13)))
    steps = list(reveal(answer))
    assert steps[-1] == answer_markdown(answer) and len(steps) == 2
    assert all(a in b or b.startswith(a) for a, b in zip(steps, steps[1:]))


def test_history_of_alternates_roles():
    turns = [Turn("q1", Answer("q1", "a1", False)), Turn("q2", Answer("q2", "a2", True))]
    assert history_of(turns) == [
        {"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"},
    ]


def test_no_ui_serves_the_api_and_widget_without_importing_gradio(write_docs, tmp_path):
    # A fresh process: this test session has imported gradio already.
    import subprocess
    import sys

    from tests.support import ROOT

    docs = write_docs({"a.txt": DOC})
    script = f"""
import sys
from fastapi.testclient import TestClient
from assistant.core import Assistant
from assistant.app.server import ServerSettings, create_app
from index.build import build_index
from tests.support import HashEmbedder
build_index({str(docs)!r}, {str(tmp_path / 'index')!r}, HashEmbedder())
app = create_app(Assistant.load({str(tmp_path / 'index')!r}, embedder=HashEmbedder()),
                 ServerSettings(index_dir={str(tmp_path / 'index')!r}, docs_dir={str(docs)!r}, ui=False))
with TestClient(app) as client:
    assert client.post("/api/ask", json={{"question": "Which claim sits here?"}}).json()["citations"]
    assert client.get("/embed.js").status_code == 200 and "--no-ui" in client.get("/").text
    assert client.get("/api/healthz").json()["chat_page"] == "off"
print("gradio" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "False"


def test_an_idle_chat_page_polls_for_work_fifty_times_a_second_not_a_thousand():
    """Gradio's queue looks for work every millisecond by default (about 7%
    of a core on an idle server); askdoc slows that to 20 ms. Failing here
    after a Gradio upgrade means its queue's attributes were renamed."""
    import gradio as gr

    from assistant.app.server import IDLE_POLL_SECONDS, quiet_when_idle

    with gr.Blocks() as demo:
        gr.Markdown("idle")
    demo.queue()
    quiet_when_idle(demo)
    assert demo._queue.sleep_when_free == IDLE_POLL_SECONDS
    assert demo._queue.progress_update_sleep_when_free >= IDLE_POLL_SECONDS
