"""The command-line contract, run as a user runs it: a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import DEFAULT_DOCS, ROOT, showing_short_answers

# Integration tier (tests/README.md): the askdoc command in a subprocess, with the real model.
pytestmark = pytest.mark.integration

ASKDOC = [sys.executable, "-m", "assistant"]


def askdoc(*args: str, stdin: str | None = None, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ASKDOC, *args], input=stdin, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})}, cwd=cwd or ROOT,
    )


def test_help_is_instant_and_imports_no_torch():
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from assistant.cli.commands import main; print('torch' in sys.modules, 'faiss' in sys.modules)"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.stdout.split() == ["False", "False"]
    help_text = askdoc("--help").stdout
    for command in ("index", "ask", "chat"):
        assert command in help_text


def test_ask_json_contract(default_index):
    result = askdoc("ask", "--docs", str(DEFAULT_DOCS), "--index", str(default_index), "--json", "What did Singh tell Dong Jun?")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"question", "answer", "abstained", "citations", "mode", "short_answer"}
    assert data["abstained"] is False and "[1]" in data["answer"]
    text = (DEFAULT_DOCS / "admm-plus-2024-singh.txt").read_text(encoding="utf-8")
    for citation in data["citations"]:
        assert {"n", "source", "start", "end", "text", "score"} <= set(citation)
        assert text[citation["start"] : citation["end"]] == citation["text"]


def test_short_answers_are_the_document_s_words_and_no_reader_gives_none(default_index, tmp_path):
    questions = ["When did Singh meet Dong Jun?", "Where is the ADMM-Plus being held?", "Who is the Chinese Defence Minister?"]
    stdin = "\n".join(questions) + "\n"
    env = {"ASKDOC_PARAMS": str(showing_short_answers(tmp_path))}
    result = askdoc("ask", "--docs", str(DEFAULT_DOCS), "--index", str(default_index), "--json", "-", stdin=stdin, env=env)
    assert result.returncode == 0, result.stderr
    text = (DEFAULT_DOCS / "admm-plus-2024-singh.txt").read_text(encoding="utf-8")
    shorts = [json.loads(line)["short_answer"] for line in result.stdout.splitlines()]
    assert any(shorts), "the reader was confident of none"
    for line, short in zip(result.stdout.splitlines(), shorts):
        if short:
            assert text[short["start"]:short["end"]] == short["text"] and short["source"] == "admm-plus-2024-singh.txt"
            assert " ".join(short["text"].split()) in json.loads(line)["answer"]
    plain = askdoc("ask", "--docs", str(DEFAULT_DOCS), "--index", str(default_index), "--json", "--no-reader", "-",
                   stdin=stdin, env=env)
    assert plain.returncode == 0, plain.stderr
    assert [json.loads(line)["short_answer"] for line in plain.stdout.splitlines()] == [None] * 3
    # On a terminal the short answer is the first line, above the quotes.
    n, first = next((n, s) for n, s in enumerate(shorts) if s)
    shown = askdoc("ask", "--docs", str(DEFAULT_DOCS), "--index", str(default_index), questions[n], env=env)
    assert shown.stdout.splitlines()[0] == " ".join(first["text"].split())


def test_ask_batch_from_stdin_keeps_order_and_reports_bad_lines(default_index):
    questions = ["Who is the Chinese Defence Minister?", "", "What is the recipe for chocolate cake?", "When did Singh meet Dong Jun?"]
    result = askdoc("ask", "--docs", str(DEFAULT_DOCS), "--index", str(default_index), "--json", "-", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == questions
    assert "error" in lines[1]
    assert lines[2]["abstained"] is True and lines[2]["citations"] == []
    assert "November 20, 2024" in lines[3]["answer"]


def test_readable_output_lists_sources(default_index):
    result = askdoc("ask", "--docs", str(DEFAULT_DOCS), "--index", str(default_index), "Which", "Lao", "minister", "did", "Singh", "meet?")
    assert result.returncode == 0, result.stderr
    assert "Chansamone Chanyalath" in result.stdout and "Sources:" in result.stdout and "[1] admm-plus-2024-singh.txt" in result.stdout


def test_ask_scope_limits_the_sources_and_names_an_unknown_folder(tmp_path, default_docs_copy):
    (default_docs_copy / "hr").mkdir()
    (default_docs_copy / "hr" / "leave.md").write_text("Singh approved five days of leave for the minister.\n", encoding="utf-8")
    index = str(tmp_path / "index")
    assert askdoc("index", "--docs", str(default_docs_copy), "--index", index).returncode == 0
    scoped = askdoc("ask", "--index", index, "--json", "--scope", "hr", "What did Singh approve?")
    assert scoped.returncode == 0, scoped.stderr
    assert {c["source"] for c in json.loads(scoped.stdout)["citations"]} == {"hr/leave.md"}
    whole = askdoc("ask", "--index", index, "--json", "--scope", "admm-plus-2024-singh.txt", "--scope", "hr/",
                   "When did Singh meet Dong Jun?")
    assert "November 20, 2024" in json.loads(whole.stdout)["answer"]
    wrong = askdoc("ask", "--index", index, "--scope", "finance", "What did Singh approve?")
    assert wrong.returncode != 0 and "no document or folder 'finance'" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_index_then_ask_builds_and_refreshes(tmp_path, default_docs_copy):
    index = tmp_path / "idx"
    built = askdoc("index", "--docs", str(default_docs_copy), "--index", str(index))
    assert built.returncode == 0, built.stderr
    assert "Indexed 1 document(s)" in built.stdout
    (default_docs_copy / "extra.md").write_text("# Weather\n\nIt rained heavily in Vientiane on the day of the summit.\n")
    asked = askdoc("ask", "--docs", str(default_docs_copy), "--index", str(index), "--json", "What was the weather in Vientiane?")
    assert asked.returncode == 0, asked.stderr
    data = json.loads(asked.stdout)
    assert data["citations"][0]["source"] == "extra.md"


@pytest.mark.parametrize("args, message, code", [
    (["ask", "--docs", "/nonexistent/docs", "--index", "/nonexistent/index", "hello"], "docs folder not found", 1),
    (["index", "--docs", "/nonexistent/docs", "--index", "/nonexistent/index"], "docs folder not found", 1),
    (["index", "--chunk-size", "100", "--chunk-overlap", "100", "--index", "/nonexistent/index"], "overlap", 2),
    (["ask"], "Missing argument", 2),
    (["index", "--vector-index", "fastest", "--index", "/nonexistent/index"], "'fastest' is not one of", 2),
])
def test_user_mistakes_are_one_line_errors(args, message, code):
    result = askdoc(*args)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_vector_index_choice_is_kept_by_later_runs(tmp_path, default_docs_copy):
    from index.storage import builds

    index = tmp_path / "idx"
    built = askdoc("index", "--docs", str(default_docs_copy), "--index", str(index), "--vector-index", "exact")
    assert built.returncode == 0, built.stderr
    (default_docs_copy / "extra.md").write_text("# Weather\n\nIt rained in Vientiane.\n")
    assert askdoc("index", "--docs", str(default_docs_copy), "--index", str(index)).returncode == 0
    manifest = builds.read_manifest(index)
    assert (manifest.vector_index, manifest.faiss_index, len(manifest.documents)) == ("exact", "Flat", 2)


@pytest.mark.parametrize("kind", ["milvus", "qdrant"])
def test_an_index_on_an_engine_answers_as_on_faiss(kind, tmp_path, default_index):
    from index.storage import builds

    index = tmp_path / kind
    built = askdoc("index", "--docs", str(DEFAULT_DOCS), "--index", str(index), "--store", kind)
    assert built.returncode == 0, built.stderr
    assert builds.read_manifest(index).settings.store == kind
    question = "What did Singh tell Dong Jun?"
    on_engine = askdoc("ask", "--index", str(index), "--json", question)
    on_faiss = askdoc("ask", "--index", str(default_index), "--json", question)
    assert on_engine.returncode == 0, on_engine.stderr
    assert json.loads(on_engine.stdout)["citations"] == json.loads(on_faiss.stdout)["citations"]


def test_the_engine_of_a_new_index_comes_from_the_environment(tmp_path, default_docs_copy):
    from index.storage import builds

    index = tmp_path / "idx"
    result = askdoc("ask", "--docs", str(default_docs_copy), "--index", str(index), "Who met Singh?",
                    env={"ASKDOC_STORE": "qdrant"})
    assert result.returncode == 0, result.stderr
    assert builds.read_manifest(index).settings.store == "qdrant"


@pytest.mark.parametrize("uri", ["ftp://milvus", "milvus:19530"])
def test_a_store_uri_that_is_no_url_is_a_usage_error(uri, tmp_path):
    result = askdoc("index", "--docs", str(DEFAULT_DOCS), "--index", str(tmp_path / "idx"), "--store", "milvus",
                    "--store-uri", uri)
    assert result.returncode == 2 and "--store-uri" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "idx").exists()


def test_embedding_on_a_gpu_this_machine_lacks_is_a_clear_error(tmp_path):
    """This machine's torch is a CPU build: --device cuda says so and touches nothing."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    result = askdoc("index", "--docs", str(DEFAULT_DOCS), "--index", str(tmp_path / "idx"), "--device", "cuda")
    assert result.returncode == 1 and "sees no CUDA GPU" in result.stderr and "Traceback" not in result.stderr
    both = askdoc("index", "--docs", str(DEFAULT_DOCS), "--index", str(tmp_path / "idx"), "--device", "cuda",
                  "--workers", "2")
    assert both.returncode == 2 and "--workers" in both.stderr
    assert not (tmp_path / "idx").exists()


def test_index_for_another_model_is_a_clear_error(default_index):
    result = askdoc("ask", "--docs", str(DEFAULT_DOCS), "--index", str(default_index), "hello", env={"ASKDOC_MODEL": "someone/else"})
    assert result.returncode == 2
    assert "sentence-transformers/all-MiniLM-L6-v2" in result.stderr and "someone/else" in result.stderr
    assert "askdoc index" in result.stderr and "Traceback" not in result.stderr


def test_empty_question_is_a_clear_error(default_index):
    result = askdoc("ask", "--docs", str(DEFAULT_DOCS), "--index", str(default_index), "   ")
    assert result.returncode == 1 and "empty" in result.stderr and "Traceback" not in result.stderr


def test_chat_follows_up(default_index):
    script = "What did Singh tell Dong Jun?\nWhen was that?\n/new\nWhen was that?\n/quit\n"
    result = askdoc("chat", "--docs", str(DEFAULT_DOCS), "--index", str(default_index), stdin=script)
    assert result.returncode == 0, result.stderr
    answers = result.stdout.split("you> ")
    assert "November 20, 2024" in answers[2]
    assert "don't say" in answers[4]


def test_an_index_answers_from_its_own_folder_never_from_a_default(tmp_path):
    """Issue 12: a `docs/` in the working directory never replaces what an index was built from."""
    handbook = tmp_path / "handbook"
    handbook.mkdir()
    (handbook / "canal.txt").write_text("The Alder canal opened in 1990. It ended the spring floods.\n", encoding="utf-8")
    index = tmp_path / "srv" / "index"
    assert askdoc("index", "--docs", str(handbook), "--index", str(index)).returncode == 0
    checkout = tmp_path / "checkout"
    (checkout / "docs").mkdir(parents=True)
    (checkout / "docs" / "bread.txt").write_text("Bread needs flour, water and yeast.\n", encoding="utf-8")

    def state() -> tuple[str, str]:
        return os.readlink(index / "current"), (index / "current" / "manifest.json").read_text()

    before = state()
    asked = askdoc("ask", "--index", str(index), "--json", "When did the canal open?", cwd=checkout)
    assert asked.returncode == 0, asked.stderr
    assert "1990" in json.loads(asked.stdout)["answer"]
    assert state() == before

    for command, env in (("ask", {}), ("chat", {}), ("serve", {}), ("ask", {"ASKDOC_DOCS": "docs"})):
        args = [command, "--index", str(index), *([] if env else ["--docs", "docs"])]
        refused = askdoc(*args, *(["When did the canal open?"] if command == "ask" else []), env=env, cwd=checkout)
        assert refused.returncode == 2, (command, refused.stderr)
        (message,) = refused.stderr.strip().splitlines()
        assert str(handbook.resolve()) in message and str((checkout / "docs").resolve()) in message
        assert f"askdoc index --docs docs --index {index}" in message
    assert state() == before

    # A server that only has the index: answers from it, with a warning.
    handbook.rename(tmp_path / "handbook-away")
    away = askdoc("ask", "--index", str(index), "--json", "When did the canal open?", cwd=checkout)
    assert away.returncode == 0 and "1990" in away.stdout and "not found" in away.stderr
    assert state() == before

    # Re-targeting is explicit, and says so.
    moved = askdoc("index", "--docs", "docs", "--index", str(index), cwd=checkout)
    assert moved.returncode == 0, moved.stderr
    assert "re-targeting" in moved.stderr
    manifest = json.loads((index / "current" / "manifest.json").read_text())
    assert manifest["settings"]["docs_dir"] == str((checkout / "docs").resolve())
    assert [d["id"] for d in manifest["documents"]] == ["bread.txt"]


def test_eval_measures_a_users_own_questions(default_index, tmp_path):
    questions = tmp_path / "mine.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"question": "When did Singh meet Dong Jun?", "answers": ["November 20, 2024"],
         "document": "admm-plus-2024-singh.txt"},
        {"question": "What is the recipe for chocolate cake?", "answers": []},
    ]) + "\n", encoding="utf-8")
    result = askdoc("eval", "--index", str(default_index), "--json", str(questions))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["questions"], data["answerable"]) == (2, 1)
    assert data["fact_in_answer"] == data["right_source_first"] == data["unanswerable_abstained"] == 1.0
    assert data["citations_exact"] == 1.0 and len(data["answers"]) == 2
    table = askdoc("eval", "--index", str(default_index), str(questions))
    assert "| key fact in the answer | 100.0% |" in table.stdout


@pytest.mark.parametrize("content", ['{"question": 3}', "not json", "", '{"answers": ["x"]}'])
def test_eval_names_a_bad_question_file(default_index, tmp_path, content):
    questions = tmp_path / "bad.jsonl"
    questions.write_text(content, encoding="utf-8")
    result = askdoc("eval", "--index", str(default_index), str(questions))
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert str(questions) in line and "Traceback" not in result.stderr
