"""The Gradio chat: ask, read answers with linked [n] markers, and review
each cited source beside the conversation.

The UI adds little to the served: one ``Assistant.ask`` per question, the
answer revealed sentence by sentence, and HTML built by ``render``. Source
documents open in a frame beside the chat (``/source``), scrolled to the
excerpt. Nothing is fetched from outside the server: system fonts, no CDN.
"""

from __future__ import annotations

import html
import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from assistant.answering.answer import Answer
from assistant.core import Turn, history_of
from assistant.people.audit import utc_now
from assistant.people.identity import asker_in
from assistant.retrieval.scope import folders_of
from assistant.routes.base import ServedAssistant, readable_ids

if TYPE_CHECKING:
    from assistant.app.library import Library
    from assistant.people.audit import AuditLog
from assistant.routes.render import answer_markdown, answer_markdown_parts, cards_html, escape_markdown

log = logging.getLogger(__name__)

EXAMPLES_FILE = ".examples"
# The page's functions that answer or write: each call counts against the
# per-client rate limit (the guard reads which function an event calls).
LIMITED_UI_FUNCTIONS = frozenset({"respond", "vote"})

CSS = """
#askdoc-header { font-size: .9rem; color: var(--body-text-color-subdued); }
.askdoc-cards { display: flex; flex-direction: column; gap: .5rem; }
.askdoc-card { display: block; border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .5rem .75rem;
  text-decoration: none !important; color: inherit !important; background: var(--background-fill-primary); }
.askdoc-card:hover, .askdoc-card.active { border-color: var(--color-accent); box-shadow: 0 0 0 1px var(--color-accent); }
.askdoc-card-head { display: flex; gap: .5rem; align-items: baseline; font-size: .85rem; margin-bottom: .25rem; }
.askdoc-n { font-weight: 700; color: var(--color-accent); }
.askdoc-doc { font-weight: 600; overflow-wrap: anywhere; }
.askdoc-score { margin-left: auto; color: var(--body-text-color-subdued); white-space: nowrap; }
.askdoc-excerpt { font-size: .9rem; line-height: 1.45; text-align: left; }
.askdoc-card, .askdoc-sources-empty { text-align: left; }
.askdoc-excerpt mark { background: #ffe066; color: inherit; padding: 0 .1em; }
.askdoc-sources-empty { color: var(--body-text-color-subdued); font-size: .9rem; padding: .5rem 0; }
.askdoc-admin { display: grid; gap: .35rem; max-width: 36rem; }
.askdoc-admin label { font-weight: 600; }
.askdoc-admin input[type=text], .askdoc-admin input[type=password] { padding: .4rem; border-radius: 6px;
  border: 1px solid var(--border-color-primary); background: var(--input-background-fill); color: inherit; }
.askdoc-drop { display: block; border: 2px dashed var(--border-color-primary); border-radius: 8px; padding: 1rem;
  cursor: pointer; }
.askdoc-drop input[type=file] { display: block; margin-top: .5rem; font-weight: normal; }
.askdoc-admin .askdoc-inline { font-weight: normal; }
#askdoc-add, .askdoc-delete { justify-self: start; padding: .35rem .9rem; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--button-secondary-background-fill); color: inherit; }
/* Text colours with at least 4.5:1 contrast (WCAG 2.1 AA) on the light and dark themes: the theme's own
   accent and subdued greys are lighter than that. */
#askdoc-header, .askdoc-score, .askdoc-sources-empty { color: #595f69; }
.dark #askdoc-header, .dark .askdoc-score, .dark .askdoc-sources-empty { color: #b9bec7; }
.askdoc-n { color: #b93f0b; }
.dark .askdoc-n { color: #fdba74; }
#askdoc-add, #askdoc-insights-show { background: #b93f0b; border-color: #b93f0b; color: #fff; }
#askdoc-insights-show, #askdoc-insights-csv { padding: .35rem .9rem; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary); margin-right: .5rem; }
#askdoc-insights-report h3 { margin: 1rem 0 .25rem; font-size: 1rem; }
.askdoc-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
#askdoc-viewer iframe { width: 100%; height: 60vh; border: 1px solid var(--border-color-primary); border-radius: 8px;
  background: #fff; }
"""

# Above a generated answer: who wrote it, and what was checked.
GENERATED_LABEL = "*Written by a language model from the sources; each sentence checked against the excerpt it cites.*\n\n"

VIEWER_PLACEHOLDER = (
    '<p style="font: 15px system-ui, sans-serif; color: #57606a; padding: 1rem">Click a [n] marker or a source card '
    'to read the cited passage in its document here.</p>'
)

# Markers in the chat and cards in the panel open their source in the frame
# beside the chat instead of leaving the page. Whenever the sources panel
# changes (a new answer, an abstention, a new conversation) the frame goes
# back to its placeholder: it must never show an excerpt as if it supported
# an answer it does not belong to.
HEAD = """
<script>
(function () {
  var placeholder = %s;
  function viewer() { return document.querySelector('iframe[name="askdoc-source"]'); }
  document.addEventListener('click', function (event) {
    var link = event.target.closest ? event.target.closest('a[href*="source?doc="]') : null;
    if (!link) return;
    var frame = viewer();
    if (!frame) return;
    event.preventDefault();
    event.stopPropagation();
    frame.removeAttribute('srcdoc');
    frame.src = link.href;
    document.querySelectorAll('.askdoc-card.active').forEach(function (c) { c.classList.remove('active'); });
    if (link.classList.contains('askdoc-card')) link.classList.add('active');
    frame.scrollIntoView({block: 'nearest'});
  }, true);
  var shown = null;
  new MutationObserver(function () {
    var panel = document.querySelector('#askdoc-sources');
    if (!panel) return;
    var turn = panel.querySelector('[data-turn]');
    var now = (turn ? turn.getAttribute('data-turn') : '') + '|' + panel.textContent;
    if (shown !== null && now !== shown) {
      var frame = viewer();
      if (frame && frame.hasAttribute('src')) {
        frame.removeAttribute('src');
        frame.setAttribute('srcdoc', placeholder);
      }
    }
    shown = now;
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
})();
</script>
""" % json.dumps(VIEWER_PLACEHOLDER)

VIEWER = f'<iframe name="askdoc-source" title="Source document" srcdoc="{html.escape(VIEWER_PLACEHOLDER)}"></iframe>'


def load_examples(docs_dir: Path | None) -> list[str]:
    """Example questions from ``docs/.examples``, one per line (hidden from indexing)."""
    if docs_dir is None:
        return []
    path = Path(docs_dir) / EXAMPLES_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")][:8]


def header_markdown(index, readable: int | None = None) -> str:
    """The line above the chat; with ``readable``, the count of documents the
    asker may read and nothing that tells of the others."""
    m = index.manifest
    built = m.built_at.replace("T", " ").replace("Z", " UTC")
    size = f"{len(m.documents)} document(s) · {m.chunks} chunks" if readable is None else f"{readable} document(s) you may read"
    return (
        f"**askdoc** · {size} · model {escape_markdown(m.model_id)} · "
        f"index built {built}. Answers quote the documents verbatim; click a [n] or a card to see the source."
    )


class FeedbackLog:
    """Append-only JSON Lines of votes, one object per thumbs up or down."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, turn: Turn, liked: bool) -> dict:
        entry = {
            "time": utc_now(),
            "question": turn.question,
            "answer": turn.answer.text,
            "abstained": turn.answer.abstained,
            "citations": [c.to_dict() for c in turn.answer.citations],
            "vote": "up" if liked else "down",
        }
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry


def messages_of(past: list[tuple[Turn, str]]) -> list[dict]:
    """The chat as shown, from the server's turns and their rendered answers.

    >>> messages_of([(Turn("Who?", Answer("Who?", "Singh. [1]", False)), "Singh. [1]")])
    [{'role': 'user', 'content': 'Who?'}, {'role': 'assistant', 'content': 'Singh. [1]'}]
    """
    return [message for turn, shown in past for message in (
        {"role": "user", "content": escape_markdown(turn.question)}, {"role": "assistant", "content": shown})]


def gr_update(**changes):
    """``gr.update``: Gradio is imported only when the page is built."""
    import gradio as gr

    return gr.update(**changes)


def reveal(answer: Answer) -> Iterator[str]:
    """Growing prefixes of the answer's Markdown, a sentence and its marker at a time.

    >>> from assistant.answering.answer import Citation
    >>> a = Answer("q", "A. [1] B. [2]", False, (Citation(1, "d", 0, 2, "A.", 1.0, 0, 2), Citation(2, "d", 3, 5, "B.", 1.0, 3, 5)))
    >>> [p.count("[\\[") for p in reveal(a)]
    [1, 2]
    """
    parts = answer_markdown_parts(answer)
    for end in range(1, len(parts) + 1):
        yield " ".join(parts[:end])


def scope_choices(doc_ids: list[str], listed_up_to: int = 40) -> list[tuple[str, str]]:
    """The scope picker's entries: everything, each folder, and each
    document when there are few enough to list.

    >>> scope_choices(["a.txt", "hr/leave.docx"])
    [('All documents', ''), ('hr/', 'hr/'), ('a.txt', 'a.txt'), ('hr/leave.docx', 'hr/leave.docx')]
    """
    documents = sorted(doc_ids) if len(doc_ids) <= listed_up_to else []
    return [("All documents", "")] + [(f, f) for f in folders_of(doc_ids)] + [(d, d) for d in documents]


class Conversation:
    """The chat page's handlers. The conversation lives here, in the
    session's server-side state: the page sends only the question (and the
    scope picker's choice, which the assistant checks), never the history
    or the chat's content."""

    def __init__(self, served: ServedAssistant, feedback: FeedbackLog, audit: "AuditLog | None" = None) -> None:
        self.served, self.feedback, self.audit = served, feedback, audit

    async def respond(self, message: str, past: list[tuple[Turn, str]], limit: str | None = None, request=None):
        message = (message or "").strip()
        shown = messages_of(past)
        if not message:
            yield shown, gr_update(), past
            return
        shown = shown + [{"role": "user", "content": escape_markdown(message)}, {"role": "assistant", "content": ""}]
        streamed: list[str] = []
        try:
            async for event, value in self.served.answer_events(message, history_of(t for t, _ in past), limit or None,
                                                                  asker_in(request)):
                if event == "sentence":  # a generated sentence that passed its check
                    streamed.append(f"{escape_markdown(value.text)} {escape_markdown(value.markers)}")
                    shown[-1] = {"role": "assistant", "content": GENERATED_LABEL + " ".join(streamed)}
                    yield shown, gr_update(), past
                else:
                    answer = value
        except Exception as exc:  # the assistant raises AskdocError for bad questions
            from index.errors import AskdocError

            if not isinstance(exc, AskdocError):
                log.exception("answering %r failed", message)
            text = str(exc) if isinstance(exc, AskdocError) else "Something went wrong; the error is in the server log."
            # Every chat pair has its turn, so a vote's message index finds its turn.
            past = past + [(Turn(message, Answer(message, text, abstained=True)), escape_markdown(text))]
            yield messages_of(past), cards_html(None), past
            return
        label = GENERATED_LABEL if answer.mode == "generated" else (
            f"*{escape_markdown(answer.note[:1].upper() + answer.note[1:])}.*\n\n" if answer.note else "")
        for prefix in ([] if streamed else reveal(answer)):
            shown[-1] = {"role": "assistant", "content": label + prefix}
            yield shown, gr_update(), past
        past = past + [(Turn(message, answer), label + answer_markdown(answer))]
        # The turn number marks the sources as final (the streamed
        # prefixes above leave them alone): tests and scripts wait on it.
        yield messages_of(past), f'<div data-turn="{len(past)}">{cards_html(answer)}</div>', past

    @staticmethod
    def forget() -> list:
        """The server's side of *New conversation*: the turns are gone."""
        return []

    def vote(self, past: list[tuple[Turn, str]], data, request=None) -> None:
        """A thumbs up or down on a turn of this session's own conversation."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        try:
            turn_number = int(index) // 2
        except (TypeError, ValueError):
            return
        if 0 <= turn_number < len(past) and data.liked is not None:
            turn = past[turn_number][0]
            self.feedback.record(turn, bool(data.liked))
            if self.audit is not None:
                self.audit.voted(asker_in(request), turn.question, turn.answer, bool(data.liked))


def build_ui(served: ServedAssistant, feedback: FeedbackLog, examples: list[str], library: "Library | None" = None,
             audit: "AuditLog | None" = None):
    """The Blocks app over ``served``; with ``library``, a Documents tab."""
    import gradio as gr

    # A server that knows its users builds a page that names no document:
    # each asker's own are filled in when their page loads.
    private = served.readers is not None
    examples = [] if private else examples  # written for everyone; they may name what some may not read

    def readable(request) -> list[str]:
        return readable_ids(served, asker_in(request))

    with gr.Blocks(title="askdoc", analytics_enabled=False) as demo:
        turns = gr.State([])  # [(Turn, the answer as shown)]: server-side, per session
        asked = gr.Textbox(visible=False)  # the question being answered
        header = gr.Markdown(header_markdown(served.index, 0 if private else None), elem_id="askdoc-header")
        with gr.Tab("Ask", id="ask"), gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(
                    label="Conversation", height=520, latex_delimiters=[], buttons=["copy"],
                    feedback_options=("Like", "Dislike"), elem_id="askdoc-chat",
                    placeholder="Ask a question about the documents. Every answer quotes them, with sources.",
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False, placeholder="Ask about the documents…", scale=5, max_lines=4,
                        elem_id="askdoc-question", autofocus=True, submit_btn=True,
                    )
                choices = scope_choices([] if private else served.index.doc_ids)
                scope = gr.Dropdown(choices=choices, value="", label="Search in", elem_id="askdoc-scope",
                                    visible=len(choices) > 2, interactive=True, filterable=True)
                if examples:
                    gr.Examples(examples=[[e] for e in examples], inputs=[question], label="Examples")
                new = gr.Button("New conversation", variant="secondary", size="sm", elem_id="askdoc-new")
            with gr.Column(scale=2, min_width=280):
                gr.Markdown("#### Sources")
                sources = gr.HTML(cards_html(None), elem_id="askdoc-sources")
                gr.HTML(VIEWER, elem_id="askdoc-viewer")
        if library is not None:
            from assistant.routes.panel import documents_tab

            with gr.Tab("Documents", id="documents", elem_id="askdoc-documents-tab") as documents:
                show_documents, document_outputs = documents_tab(library, private)
            documents.select(show_documents, None, document_outputs, api_visibility="private")
            if audit is not None and library.editable:
                from assistant.routes.panel import insights_tab

                with gr.Tab("Insights", id="insights", elem_id="askdoc-insights-tab"):
                    insights_tab()

        conversation = Conversation(served, feedback, audit)
        # Gradio finds the event-data parameter by its annotation, which
        # postponed annotations turn into a string it cannot resolve.
        Conversation.vote.__annotations__["data"] = gr.LikeData
        Conversation.respond.__annotations__["request"] = Conversation.vote.__annotations__["request"] = gr.Request

        # Cleared in the browser, instantly and without a server round trip:
        # a clear that reached the page late (a busy server) used to wipe a
        # question typed after the click. The typed question is left alone.
        empty = json.dumps([chatbot.postprocess([]).model_dump(), cards_html(None)])
        clear_js = f"() => {empty}"

        # The index may have been rebuilt since start-up: describe the live one.
        def describe(request: gr.Request):
            return header_markdown(served.index, len(readable(request)) if private else None)

        def pick(request: gr.Request):
            choices = scope_choices(readable(request))
            return gr.update(choices=choices, visible=len(choices) > 2)

        describe.__annotations__["request"] = pick.__annotations__["request"] = gr.Request
        demo.load(describe, None, header, api_visibility="private")
        demo.load(pick, None, scope, api_visibility="private")
        # Enter moves the question out of the box in the browser, so the
        # box is free at once: a next question typed while this answer
        # streams is never overwritten by the answer's updates.
        answering = question.submit(None, [question], [question, asked], js="(q) => ['', q]",
                                    api_visibility="private").then(conversation.respond, [asked, turns, scope], [chatbot, sources, turns],
                                                                   api_visibility="private")
        chatbot.like(conversation.vote, [turns], None, api_visibility="private")
        # Clearing also cancels an answer still on its way, which would
        # otherwise bring the old conversation back when it arrives; the
        # server then forgets the turns.
        for clear in (new.click, chatbot.clear):
            clear(None, [], [chatbot, sources], js=clear_js, api_visibility="private",
                  cancels=[answering]).then(Conversation.forget, None, [turns], api_visibility="private")
    return demo


def theme():
    import gradio as gr

    # System fonts only: the default theme's web fonts would be a request
    # an offline machine cannot answer.
    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )
