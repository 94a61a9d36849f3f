"""The command line's shared options and the checks of their values, done
as click parses them (before anything loads)."""

from __future__ import annotations

import os
from pathlib import Path

import click

DEFAULT_INDEX = ".askdoc/index"

docs_option = click.option(
    "--docs", "docs", envvar="ASKDOC_DOCS", default=None, show_envvar=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of documents (.txt .md .html .pdf .docx .pptx .odt .eml, searched recursively). Default: the folder the index was built "
         "from, or ./docs for a new index.",
)
index_option = click.option(
    "--index", "index_dir", envvar="ASKDOC_INDEX", default=DEFAULT_INDEX, show_default=True, show_envvar=True,
    type=click.Path(file_okay=False, path_type=Path), help="Index directory (built here when missing).",
)
model_option = click.option(
    "--model", envvar="ASKDOC_MODEL", default=None, show_envvar=True,
    help="Embedding model: a sentence-transformers name or a local folder. Default: the bundled all-MiniLM-L6-v2. "
         "'onnx-int8' (or NAME@onnx-int8) runs it as a local int8 ONNX export (needs the onnx extra).",
)

reader_option = click.option(
    "--no-reader", "no_reader", is_flag=True, envvar="ASKDOC_NO_READER", show_envvar=True,
    help="Answer without the reader (the model that reads the question against each candidate sentence): "
         "retrieval's scores and rules alone, as askdoc did before it. Faster; no short answer.",
)


def store_uri(value: str | None) -> str | None:
    """An engine server's URL, "" for the embedded engine, None when not given."""
    if value is None or value == "":
        return value
    if not value.startswith(("http://", "https://")):
        raise click.BadParameter(f"{value!r} is not an http(s) URL (leave it empty for the embedded engine)",
                                 param_hint="--store-uri")
    return value.rstrip("/")


def llm_options(command):
    """--llm-url, --llm-model and --llm-timeout (the key only from ASKDOC_LLM_API_KEY, never a flag)."""
    command = click.option("--llm-timeout", envvar="ASKDOC_LLM_TIMEOUT", show_envvar=True, default=20.0,
                           show_default=True, type=click.FloatRange(1, 600),
                           help="Seconds the LLM may take; past them the quotes are served.")(command)
    command = click.option("--llm-model", envvar="ASKDOC_LLM_MODEL", show_envvar=True, default="",
                           help="The model name the LLM server expects (Ollama: llama3.2, ...).")(command)
    return click.option("--llm-url", envvar="ASKDOC_LLM_URL", show_envvar=True, default=None, metavar="URL",
                        callback=lambda ctx, param, value: llm_url(value),
                        help="An OpenAI-compatible server (http://localhost:11434/v1) whose LLM writes the answers "
                             "from the excerpts; only sentences checked against the excerpt they cite are shown, "
                             "quotes otherwise. Off by default. Its key: ASKDOC_LLM_API_KEY.")(command)


def proxies(value: str) -> tuple[str, ...]:
    from assistant.guard.clients import parse_proxies

    try:
        return parse_proxies(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--forwarded-allow-ips") from None


def llm_url(url: str | None) -> str | None:
    """--llm-url checked before anything loads: http(s), and no credentials."""
    from urllib.parse import urlsplit

    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("not an http(s) URL", param_hint="--llm-url")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        # A URL is logged and shown in errors; a key is not. Never echo it back.
        raise click.BadParameter("the URL holds credentials (user:password@): give the server's key in "
                                 "ASKDOC_LLM_API_KEY instead, and the URL without them", param_hint="--llm-url")
    return url


def llm_settings(url: str | None, model: str, timeout: float):
    if not url:
        return None
    from assistant.generation.generate import LLMSettings

    return LLMSettings(url, model, os.environ.get("ASKDOC_LLM_API_KEY") or None, timeout)
