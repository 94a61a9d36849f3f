"""The ``askdoc`` command line.

Heavy libraries (torch, FAISS, Gradio) load inside the commands that need
them, so ``askdoc --help`` answers at once. Every error askdoc knows about
becomes one line on stderr and an exit code: 1 for bad input, 2 for an index
that needs attention.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from assistant.cli.indexing import build, open_index
from assistant.cli.options import (docs_option, index_option, llm_options, llm_settings, model_option, proxies, reader_option,
                                   store_uri)
from assistant.cli.serve_options import audit_options, audit_settings, oidc_settings, signin_options
from assistant.cli.terminal import Bar, print_answer, setup_logging
from index import __version__
from index.errors import AskdocError

if TYPE_CHECKING:
    pass

log = logging.getLogger("askdoc")

@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="askdoc")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-v progress, -vv debug).")
def cli(verbose: int) -> None:
    """Ask questions about a folder of documents.

    Every answer is made of sentences quoted verbatim from the documents, each
    followed by a [n] marker naming its source. When the documents do not say,
    askdoc says so instead of guessing. Works offline, on the CPU.

    \b
    Quick start:
      askdoc index                                # index ./docs into ./.askdoc/index
      askdoc ask "What did Singh tell Dong Jun?"  # one question
      askdoc chat                                 # a conversation with follow-ups
      askdoc eval my-questions.jsonl              # how well it answers your own questions
      askdoc serve                                # the web app on http://127.0.0.1:7860/
    """
    setup_logging(verbose)


@cli.command("index")
@docs_option
@index_option
@model_option
@click.option("--rebuild", is_flag=True, help="Re-embed every document instead of only the changed ones.")
@click.option("--chunk-size", type=click.IntRange(min=50), default=None, help="Target chunk size in characters [default: 800].")
@click.option("--chunk-overlap", type=click.IntRange(min=0), default=None, help="Overlap between chunks in characters [default: 150].")
@click.option("--vector-index", type=click.Choice(["auto", "exact", "approximate"]), default=None,
              help="FAISS search: exact, approximate (IVF with 8-bit vectors, tuned to recall@10 >= 0.99), or auto: "
                   "exact up to 100,000 chunks [default: the index's setting, else auto].")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes that embed in parallel, each with its own copy of the model (the vectors are the same).")
@click.option("--ocr/--no-ocr", default=None,
              help="Read PDF pages without a text layer (scans) by OCR with tesseract; seconds a page, once per file "
                   "[default: the index's setting, else off].")
@click.option("--store", type=click.Choice(["faiss", "milvus", "qdrant"]), envvar="ASKDOC_STORE", show_envvar=True,
              default=None,
              help="Where the vectors are searched: FAISS files in the index, or Milvus / Qdrant collections "
                   "(embedded in the index directory, or the server at --store-uri). Switching keeps every vector "
                   "[default: the index's setting, else faiss].")
@click.option("--store-uri", envvar="ASKDOC_STORE_URI", show_envvar=True, default=None, metavar="URL",
              callback=lambda ctx, param, value: store_uri(value),
              help="The Milvus (http://HOST:19530) or Qdrant (http://HOST:6333) server or cluster; empty: the engine "
                   "embedded in the index directory, one process at a time. Its key: ASKDOC_STORE_API_KEY.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), envvar="ASKDOC_DEVICE", show_envvar=True, default="cpu",
              show_default=True,
              help="Embed on a CUDA GPU (torch with CUDA): the same model, so questions still run on the CPU.")
def index_command(docs: Path, index_dir: Path, model: str | None, rebuild: bool, chunk_size: int | None,
                  chunk_overlap: int | None, vector_index: str | None, workers: int, ocr: bool | None,
                  store: str | None, store_uri: str | None, device: str) -> None:
    """Build or refresh the index.

    Without --docs the index is refreshed from the folder it was built from
    (./docs for a new index); --docs with another folder re-targets the index
    to that folder, and says so. Only documents whose content changed are
    embedded again; deleted ones are dropped. Settings not given (chunking,
    --vector-index, --ocr) keep the index's. The new index replaces the old one
    atomically, so an interrupted run leaves the previous index usable.
    """
    report = build(docs, index_dir, model, rebuild, chunk_size, chunk_overlap, vector_index, ocr, workers,
                    store, store_uri, device)
    click.echo(
        f"Indexed {report.documents} document(s) into {index_dir}: {report.chunks} chunks, {report.sentences} sentences "
        f"({report.embedded} embedded, {report.reused} unchanged, {report.removed} removed"
        + (f", {len(report.skipped)} skipped" if report.skipped else "")
        + f") in {report.seconds:.1f}s."
    )


@cli.command("serve")
@docs_option
@index_option
@model_option
@reader_option
@click.option("--host", default="127.0.0.1", show_default=True, envvar="ASKDOC_HOST", show_envvar=True,
              help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=7860, show_default=True, envvar="ASKDOC_PORT", show_envvar=True,
              type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--allowed-origins", envvar="ASKDOC_ALLOWED_ORIGINS", show_envvar=True, default="",
              help="Comma-separated origins (https://intranet.example.com) whose pages may use the API and the "
                   "widget, and frame the app. Default: the server's own origin only. '*' allows any.")
@click.option("--api-token", envvar="ASKDOC_API_TOKEN", show_envvar=True, default=None,
              help="Require this token on everything but static files: 'Authorization: Bearer TOKEN' from scripts "
                   "and the widget (data-token); the chat page asks for it once and keeps a session cookie.")
@click.option("--rate-limit", envvar="ASKDOC_RATE_LIMIT", show_envvar=True, default=30, show_default=True,
              type=click.IntRange(min=0),
              help="Questions (and votes) per client per minute, from the API, /v1 and the chat page (0: no limit).")
@click.option("--forwarded-allow-ips", envvar="ASKDOC_FORWARDED_ALLOW_IPS", show_envvar=True, default="",
              metavar="IPS", callback=lambda ctx, param, value: proxies(value),
              help="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For/-Proto/-Host "
                   "headers are believed ('*': any). Default: none, so every client is its TCP address.")
@click.option("--root-path", envvar="ASKDOC_ROOT_PATH", show_envvar=True, default="",
              help="URL prefix when served behind a reverse proxy, e.g. /askdoc.")
@click.option("--admin-token", envvar="ASKDOC_ADMIN_TOKEN", show_envvar=True, default=None,
              help="Let whoever gives this token add and delete documents (the Documents tab; X-Askdoc-Admin on "
                   "/api/documents). Without it the documents are read-only.")
@click.option("--max-upload-mb", envvar="ASKDOC_MAX_UPLOAD_MB", show_envvar=True, default=50, show_default=True,
              type=click.IntRange(1, 2048), help="Largest file an administrator may upload.")
@click.option("--no-ui", is_flag=True, envvar="ASKDOC_NO_UI", show_envvar=True,
              help="Serve the API, the widget and the source views only: no chat page, and no Gradio in memory.")
@signin_options
@audit_options
@llm_options
def serve_command(docs: Path, index_dir: Path, model: str | None, no_reader: bool, host: str, port: int, allowed_origins: str,
                  api_token: str | None, rate_limit: int, forwarded_allow_ips: tuple[str, ...], root_path: str,
                  admin_token: str | None, max_upload_mb: int, no_ui: bool, trust_user_header: str | None,
                  trust_groups_header: str | None, session_secret: str | None, oidc_issuer: str | None,
                  oidc_client_id: str | None, oidc_groups_claim: str, permissions_file: Path | None, audit_log: Path | None,
                  audit_max_mb: int, audit_keep_days: float | None, audit_no_questions: bool, no_audit: bool,
                  llm_url: str | None, llm_model: str, llm_timeout: float) -> None:
    """Start the web app: chat UI at /, JSON API at /api, widget at /embed.js.

    Builds or refreshes the index first when needed, loads it once, and logs
    the address to open. Works with no internet connection.
    """
    assistant, folder = open_index(docs, index_dir, model, reader=not no_reader)
    if not no_ui:
        # The API answers as soon as the server starts; the chat page is built
        # meanwhile in a worker thread that imports Gradio (app/later.py). So
        # that no question imports anything beside it (two threads importing
        # at once can deadlock in Python's import locks), the model and every
        # module a question needs load here, first.
        assistant.ask("askdoc")
    from assistant.app.server import ServerSettings, serve
    from assistant.guard.guard import normalize_root_path, parse_origins

    for name in ("assistant.app.server", "assistant.app.later"):
        logging.getLogger(name).setLevel(logging.INFO)
    serve(assistant, ServerSettings(
        index_dir=index_dir, docs_dir=folder, host=host, port=port, root_path=normalize_root_path(root_path),
        allowed_origins=parse_origins(allowed_origins), api_token=api_token or None, rate_limit=rate_limit,
        admin_token=admin_token or None, max_upload_mb=max_upload_mb, forwarded_allow_ips=forwarded_allow_ips,
        llm=llm_settings(llm_url, llm_model, llm_timeout), ui=not no_ui, page_later=True, trust_user_header=trust_user_header or None,
        trust_groups_header=trust_groups_header or None, session_secret=session_secret or None,
        oidc=oidc_settings(oidc_issuer, oidc_client_id, oidc_groups_claim),
        permissions=permissions_file,
        audit=audit_settings(index_dir, audit_log, audit_max_mb, audit_keep_days, audit_no_questions, no_audit),
    ))


@cli.command("ask")
@docs_option
@index_option
@model_option
@reader_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per answer.")
@click.option("--scope", multiple=True, metavar="FOLDER|DOC",
              help="Search only this folder of the documents (hr/) or this document (hr/leave.docx); repeat for several.")
@llm_options
@click.argument("question", nargs=-1, required=True)
def ask_command(docs: Path, index_dir: Path, model: str | None, no_reader: bool, as_json: bool, scope: tuple[str, ...],
                llm_url: str | None, llm_model: str, llm_timeout: float, question: tuple[str, ...]) -> None:
    """Answer QUESTION from the documents, with numbered sources.

    QUESTION may be several words without quotes. With "-", questions are read
    from standard input, one per line, and answered in order (the model loads
    once); with --json each answer is one line of JSON:
    {"question", "answer", "abstained", "citations": [{"n", "source", "start",
    "end", "text", "score", "highlight_start", "highlight_end"}], "short_answer":
    {"text", "source", "start", "end"} or null}. The short answer (the words
    that answer, when the reader is confident) is printed in bold above the
    quotes.
    """
    text = " ".join(question)
    llm = llm_settings(llm_url, llm_model, llm_timeout)
    assistant, _ = open_index(docs, index_dir, model, reader=not no_reader)
    limit = list(scope) or None
    ask: Callable[..., Any] = assistant.ask
    if llm is not None:
        import asyncio
        from dataclasses import replace

        from assistant.generation.generate import GROUNDING_EXCERPTS, Generator

        assistant.settings = replace(assistant.settings, grounding_excerpts=GROUNDING_EXCERPTS)
        generator = Generator(llm)

        def ask_and_write(question: str, scope=None):
            return asyncio.run(generator.answer(assistant.ask(question, scope=scope)))

        ask = ask_and_write
    if text.strip() != "-":
        print_answer(ask(text, scope=limit), as_json)
        return
    first = True
    for line in sys.stdin:
        line = line.rstrip("\n")
        try:
            answer = ask(line, scope=limit)
        except AskdocError as exc:
            if not as_json:
                raise
            click.echo(json.dumps({"question": line, "error": str(exc)}, ensure_ascii=False))
            continue
        if not as_json and not first:
            click.echo("")
        print_answer(answer, as_json)
        first = False
        sys.stdout.flush()


@cli.command("eval")
@docs_option
@index_option
@model_option
@reader_option
@click.option("--json", "as_json", is_flag=True, help="Print the measures as one JSON object.")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def eval_command(docs: Path | None, index_dir: Path, model: str | None, no_reader: bool, as_json: bool,
                 questions: Path) -> None:
    """Measure askdoc on your own QUESTIONS (JSON Lines) against the index.

    \b
    One question a line:
      {"question": "When did Singh meet Dong Jun?", "answers": ["November 20, 2024"], "document": "admm.txt"}
      {"question": "What is the capital of France?", "answers": []}

    "answers" are key facts, any of which counts (case-insensitively); an
    empty list marks a question the documents cannot answer (askdoc should
    abstain); "document" (optional) is the id that should be cited first.
    Prints how often a key fact is in the answer, in the first citation and
    in any citation, the right document first, abstentions, and the mean
    answer length; --json prints them (and every answer) as JSON.
    """
    from assistant.evaluate import load_cases, run, table

    cases = load_cases(questions)
    assistant, _ = open_index(docs, index_dir, model, reader=not no_reader)
    bar = Bar()
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        bar("asking", done, len(cases))

    try:
        report = run(assistant.ask, cases, lambda s: assistant.index.document(s).text, progress=tick)
    finally:
        bar.close()
    summary = report.summary
    if as_json:
        click.echo(json.dumps({**summary, "answers": [
            {"question": o.case.question, "expected": list(o.case.facts), "answer": o.answer.text,
             "abstained": o.answer.abstained, "fact_in_answer": o.fact_in_answer} for o in report.outcomes]},
            ensure_ascii=False))
        return
    click.echo(table({questions.name: summary}))
    misses = report.failures()
    if misses:
        click.echo(f"\n{len(misses)} question(s) not answered as expected, for example:")
        for o in misses[:5]:
            click.echo(f"  {o.case.question!r} -> {' '.join(o.answer.text.split())[:120]!r}")


@cli.command("chat")
@docs_option
@index_option
@model_option
@reader_option
def chat_command(docs: Path, index_dir: Path, model: str | None, no_reader: bool) -> None:
    """Talk with the documents in the terminal; follow-ups use the conversation.

    Type a question and press Enter. "/new" starts a new conversation, "/quit"
    (or Ctrl-D) leaves.
    """
    assistant, _ = open_index(docs, index_dir, model, reader=not no_reader)
    manifest = assistant.index.manifest
    click.echo(f"askdoc: {len(manifest.documents)} document(s), {manifest.chunks} chunks. Ask away; /new resets, /quit leaves.")
    from assistant.core import Turn, history_of

    turns: list[Turn] = []
    while True:
        try:
            line = input("\nyou> ")
        except EOFError:
            click.echo("")
            return
        line = line.strip()
        if not line:
            continue
        if line in {"/quit", "/exit"}:
            return
        if line == "/new":
            turns.clear()
            click.echo("(new conversation)")
            continue
        try:
            answer = assistant.ask(line, history_of(turns))
        except AskdocError as exc:
            click.echo(f"askdoc: error: {exc}", err=True)
            continue
        click.echo("")
        print_answer(answer, as_json=False)
        turns.append(Turn(line, answer))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning askdoc's errors into messages."""
    try:
        code = cli.main(args=argv, prog_name="askdoc", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("askdoc: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AskdocError as exc:
        click.echo(f"askdoc: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("askdoc: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # stdout closed early (askdoc ask ... | head): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    sys.exit(code if isinstance(code, int) else 0)
