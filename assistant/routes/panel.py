"""The web app's Documents tab: the indexed documents and the skipped files,
and, with the admin token, upload (drag and drop) and delete, with the
background refresh's progress (``documents.Library`` does the work, behind
``/api/documents``)."""

from __future__ import annotations

import html
import logging

from assistant.app.library import Library
from assistant.people.identity import asker_in
from assistant.routes.base import visible_to

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
    """The table of documents and skipped files (every value escaped); with
    ``editable``, a Delete button on each row."""
    e = html.escape

    def delete(doc_id: str) -> str:
        if not listing.get("editable"):
            return ""
        return (f"<button type='button' class='askdoc-delete' data-doc='{e(doc_id, quote=True)}' "
                f"aria-label='Delete {e(doc_id, quote=True)}'>Delete</button>")

    rows = "".join(
        f"<tr><td>{e(d['id'])}</td><td>{e(d['type'])}</td><td>{d['pages'] if d['pages'] is not None else ''}</td>"
        f"<td>{size_text(d['size'])}</td><td>{e(d['indexed_at'].replace('T', ' ')[:16])}</td>"
        f"<td>{delete(d['id'])}</td></tr>"
        for d in listing["documents"][:SHOWN]
    )
    more = len(listing["documents"]) - SHOWN
    more_row = f"<tr><td colspan='6'>… and {more:,} more (GET /api/documents lists all)</td></tr>" if more > 0 else ""
    skipped = "".join(f"<li><b>{e(s['id'])}</b>: {e(s['reason'])} {delete(s['id'])}</li>" for s in listing["skipped"])
    return (
        f"<p id='askdoc-refresh' data-state='{e(listing['refresh']['state'])}'>{e(refresh_text(listing['refresh']))}</p>"
        f"<table class='askdoc-documents'><thead><tr><th>document</th><th>type</th><th>pages</th><th>size</th>"
        f"<th>indexed (UTC)</th><th><span class='askdoc-sr'>actions</span></th></tr></thead>"
        f"<tbody>{rows}{more_row}</tbody></table>"
        + (f"<p>Skipped ({len(listing['skipped'])}):</p><ul class='askdoc-skipped'>{skipped}</ul>" if skipped else "")
    )


# The administrator's form. It talks to /api/documents itself (documents.js),
# with the token in the X-Askdoc-Admin header: the guard checks it before a
# byte of the upload is read, and no file ever passes through Gradio.
ADMIN_FORM = """
<div class="askdoc-admin">
  <label for="askdoc-admin-token-input">Admin token</label>
  <input id="askdoc-admin-token-input" type="password" autocomplete="off">
  <label id="askdoc-upload" class="askdoc-drop">Add documents: drop files here or click to choose
    <input type="file" multiple>
    <span class="askdoc-chosen" aria-live="polite"></span>
  </label>
  <label for="askdoc-folder-input">Into folder (optional)</label>
  <input id="askdoc-folder-input" type="text" placeholder="hr/">
  <label class="askdoc-inline"><input id="askdoc-replace" type="checkbox"> Replace files of the same name</label>
  <button type="button" id="askdoc-add">Add</button>
  <p id="askdoc-admin-message" role="status"></p>
</div>
"""


def documents_tab(library: Library, private: bool = False):
    """The tab's components and events, inside the caller's ``gr.Blocks``;
    returns the listing function and the components it updates. ``private``:
    the server knows its users, and each sees only what they may read (the
    page itself lists nothing)."""
    import gradio as gr

    def show(request: gr.Request):
        listing = library.listing(visible_to(library.served, asker_in(request)))
        return documents_html(listing), gr.Timer(active=listing["refresh"]["state"] == "running")

    show.__annotations__["request"] = gr.Request  # Gradio reads it; postponed annotations hide it
    table = gr.HTML(documents_html(library.listing(lambda _: False) if private else library.listing()),
                    elem_id="askdoc-documents")
    timer = gr.Timer(1.0, active=False)
    # documents.js clicks this after a change, so the table follows the refresh.
    reload = gr.Button("Reload the list", visible="hidden", elem_id="askdoc-documents-reload")
    if library.editable:
        gr.HTML(ADMIN_FORM, elem_id="askdoc-admin-form")
    else:
        gr.Markdown("Read-only: start the server with `--admin-token` to add and delete documents here.")
    timer.tick(show, None, [table, timer], api_visibility="private")
    reload.click(show, None, [table, timer], api_visibility="private")
    return show, [table, timer]


# The Insights tab (insights.js draws the report it reads from /api/insights).
INSIGHTS_FORM = """
<div class="askdoc-admin">
  <p>What people asked and could not find, answers voted down, the most asked questions and the documents never
  cited: from the audit trail, for whoever holds the admin token.</p>
  <label for="askdoc-insights-token">Admin token</label>
  <input id="askdoc-insights-token" type="password" autocomplete="off">
  <div><button type="button" id="askdoc-insights-show">Show insights</button>
  <button type="button" id="askdoc-insights-csv">Download CSV</button></div>
  <p id="askdoc-insights-message" role="status"></p>
  <div id="askdoc-insights-report"></div>
</div>
"""


def insights_tab() -> None:
    """The tab's one component, inside the caller's ``gr.Blocks``."""
    import gradio as gr

    gr.HTML(INSIGHTS_FORM, elem_id="askdoc-insights")
