"""The web app's Documents tab: the indexed documents and the skipped files,
and, with the admin token, upload (drag and drop) and delete, with the
background refresh's progress (``documents.Library`` does the work)."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from index.errors import AskdocError

from .documents import Library

log = logging.getLogger(__name__)

SHOWN = 500  # rows in the table; a bigger corpus is listed by the API


def size_text(size: int) -> str:
    """A file size for people.

    >>> size_text(512), size_text(2_500_000)
    ('512 B', '2.4 MB')
    """
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def refresh_text(refresh: dict) -> str:
    """One line on the background refresh.

    >>> refresh_text({"state": "running", "stage": "embedding", "done": 50, "total": 200})
    'Refreshing the index: embedding 50 / 200 (25%)'
    >>> refresh_text({"state": "idle", "message": "3 documents indexed", "finished_at": "2026-01-01T10:00:00Z"})
    'Index up to date: 3 documents indexed (2026-01-01 10:00 UTC)'
    """
    state = refresh.get("state")
    if state == "running":
        done, total = refresh.get("done", 0), refresh.get("total", 0)
        count = f" {done:,} / {total:,} ({100 * done // total}%)" if total else ""
        return f"Refreshing the index: {refresh.get('stage') or 'starting'}{count}"
    when = (refresh.get("finished_at") or "").replace("T", " ")[:16]
    when = f" ({when} UTC)" if when else ""
    if state == "failed":
        return f"The last refresh failed: {refresh.get('message')}{when}; still serving the previous index"
    return f"Index up to date: {refresh['message']}{when}" if refresh.get("message") else "Index up to date"


def documents_html(listing: dict) -> str:
    """The table of documents and skipped files (every value escaped)."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(d['id'])}</td><td>{e(d['type'])}</td><td>{d['pages'] if d['pages'] is not None else ''}</td>"
        f"<td>{size_text(d['size'])}</td><td>{e(d['indexed_at'].replace('T', ' ')[:16])}</td></tr>"
        for d in listing["documents"][:SHOWN]
    )
    more = len(listing["documents"]) - SHOWN
    more_row = f"<tr><td colspan='5'>… and {more:,} more (GET /api/documents lists all)</td></tr>" if more > 0 else ""
    skipped = "".join(f"<li><b>{e(s['id'])}</b>: {e(s['reason'])}</li>" for s in listing["skipped"])
    return (
        f"<p id='askdoc-refresh' data-state='{e(listing['refresh']['state'])}'>{e(refresh_text(listing['refresh']))}</p>"
        f"<table class='askdoc-documents'><thead><tr><th>document</th><th>type</th><th>pages</th><th>size</th>"
        f"<th>indexed (UTC)</th></tr></thead><tbody>{rows}{more_row}</tbody></table>"
        + (f"<p>Skipped ({len(listing['skipped'])}):</p><ul class='askdoc-skipped'>{skipped}</ul>" if skipped else "")
    )


def documents_tab(library: Library) -> None:
    """The tab's components and events, inside the caller's ``gr.Blocks``."""
    import gradio as gr

    def show():
        listing = library.listing()
        running = listing["refresh"]["state"] == "running"
        return documents_html(listing), gr.update(choices=[d["id"] for d in listing["documents"]]
                                                  + [s["id"] for s in listing["skipped"]]), gr.Timer(active=running)

    table = gr.HTML(documents_html(library.listing()), elem_id="askdoc-documents")
    timer = gr.Timer(1.0, active=False)
    with gr.Group(visible=library.editable):
        token = gr.Textbox(label="Admin token", type="password", elem_id="askdoc-admin-token")
        with gr.Row():
            files = gr.File(label="Add documents (drop files here)", file_count="multiple", elem_id="askdoc-upload")
            with gr.Column():
                folder = gr.Textbox(label="Into folder (optional)", placeholder="hr/", elem_id="askdoc-folder")
                replace = gr.Checkbox(label="Replace files of the same name", value=False)
                upload = gr.Button("Add", variant="primary", elem_id="askdoc-add")
        with gr.Row():
            chosen = gr.Dropdown(label="Delete a document", choices=[], elem_id="askdoc-delete-choice")
            delete = gr.Button("Delete", variant="stop", elem_id="askdoc-delete")
        message = gr.Markdown(elem_id="askdoc-admin-message")
    if not library.editable:
        gr.Markdown("Read-only: start the server with `--admin-token` to add and delete documents here.")

    def add(secret: str, paths: list[str] | None, into: str, overwrite: bool):
        added, problems = [], []
        for path in paths or []:
            try:
                added.append(library.add(secret, Path(path).name, Path(path).read_bytes(), into, overwrite))
            except AskdocError as exc:
                problems.append(f"{Path(path).name}: {exc}")
        text = "; ".join(([f"Added {', '.join(added)}; the index is refreshing."] if added else []) + problems)
        return (text or "Choose files first.", None, *show())

    def remove(secret: str, doc_id: str | None):
        if not doc_id:
            return ("Choose a document first.", *show())
        try:
            library.remove(secret, doc_id)
            text = f"Deleted {doc_id}; the index is refreshing."
        except KeyError:
            text = f"No document {doc_id}."
        except AskdocError as exc:
            text = str(exc)
        return (text, *show())

    upload.click(add, [token, files, folder, replace], [message, files, table, chosen, timer], api_visibility="private")
    delete.click(remove, [token, chosen], [message, table, chosen, timer], api_visibility="private")
    timer.tick(show, None, [table, chosen, timer], api_visibility="private")
    return show, [table, chosen, timer]
