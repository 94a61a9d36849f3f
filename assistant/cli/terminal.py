"""What the command line shows on a terminal: its log lines, progress bars
(on a terminal only), and an answer with its sources."""

from __future__ import annotations

import json
import logging
import sys

import click

from assistant.answering.answer import one_line


class Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        level = record.levelname.lower()
        return f"askdoc: {level}: {record.getMessage()}" if record.levelno >= logging.WARNING else f"askdoc: {record.getMessage()}"


def setup_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in ("askdoc", "index", "assistant"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    # Libraries that announce their own internals at INFO stay quiet unless asked.
    for name in ("faiss", "sentence_transformers", "transformers", "bm25s", "httpx", "urllib3"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 2 else logging.ERROR)


class Bar:
    """tqdm progress for index builds (count, rate, time left), one bar per
    stage, drawn only on a terminal."""

    UNITS = {"splitting": "doc", "embedding": "text", "asking": "question"}

    def __init__(self) -> None:
        self.bar = None
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if stage != self.stage:
            self.close()
            self.stage = stage
            if not total:  # a step without a count: say what it is doing
                print(f"{stage}…", file=sys.stderr)
                return
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=stage, unit=self.UNITS.get(stage, "it"), file=sys.stderr, leave=False,
                            dynamic_ncols=True, smoothing=0.1)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def print_answer(answer, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    if answer.mode == "generated":
        click.echo("(written by a language model from the sources; each sentence checked against the excerpt it cites)")
    elif answer.note:
        click.echo(f"({answer.note})")
    short = answer.short_answer
    if short is None:
        click.echo(answer.text)
    else:  # the words that answer, above the quotes and in bold inside the first
        text = one_line(short.text)
        click.echo(click.style(text, bold=True))
        at = answer.text.find(text)
        click.echo(answer.text if at < 0 else
                   answer.text[:at] + click.style(text, bold=True) + answer.text[at + len(text):])
    if answer.citations:
        click.echo("\nSources:")
        for c in answer.citations:
            where = f"{c.place}, " if c.place else ""
            click.echo(f"[{c.n}] {c.source} ({where}characters {c.start}-{c.end}, score {c.score:.2f})")
            click.echo("    " + " ".join(c.text.split()))
