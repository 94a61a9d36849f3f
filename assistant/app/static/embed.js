/*
 * askdoc widget: one <script> tag puts a chat launcher on any page.
 *
 *   <script src="http://HOST:7860/embed.js" data-title="Ask the documents"
 *           data-position="bottom-right" data-color="#0b5fff"
 *           data-greeting="Hi! Ask me about the documents." data-open="false"
 *           data-scope="hr/"></script>
 *
 * data-scope limits answers to a folder of the documents ("hr/"), a
 * document, or several of either separated by commas ("hr/,it/vpn.md").
 *
 * Everything lives in a Shadow DOM, so the host page's styles and the
 * widget's never touch. All text from the server is inserted as text
 * (textContent), never as HTML. Everything it loads comes from the askdoc
 * server that served this file.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__askdocWidget) return;
  window.__askdocWidget = true;

  var base = new URL(".", script.src).href; // keeps a reverse-proxy prefix
  var opt = function (name, fallback) {
    var v = script.getAttribute("data-" + name);
    return v === null || v === "" ? fallback : v;
  };
  var title = opt("title", "Ask the documents");
  var position = opt("position", "bottom-right");
  var color = /^#[0-9a-fA-F]{3,8}$|^[a-zA-Z]+$/.test(opt("color", "")) ? opt("color", "") : "#0b5fff";
  var greeting = opt("greeting", "Ask a question: every answer quotes the documents, with its sources.");
  var startOpen = opt("open", "false") === "true";
  var token = opt("token", "");
  var placeholder = opt("placeholder", "Ask about the documents…");
  var scopes = opt("scope", "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);

  var vertical = position.indexOf("top") === 0 ? "top" : "bottom";
  var horizontal = position.indexOf("left") !== -1 ? "left" : "right";

  var host = document.createElement("div");
  host.id = "askdoc-widget";
  host.setAttribute("data-askdoc", "");
  var root = host.attachShadow({ mode: "open" });

  var css = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; }",
    ".wrap { position: fixed; " + vertical + ": 20px; " + horizontal + ": 20px; z-index: 2147483000;",
    "  font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1f2328; }",
    ".launcher { all: unset; cursor: pointer; background: var(--c); color: #fff; border-radius: 999px; padding: 12px 18px;",
    "  font-weight: 600; box-shadow: 0 4px 16px rgba(0,0,0,.25); display: inline-flex; gap: 8px; align-items: center; }",
    ".launcher:focus-visible { outline: 3px solid #fff; box-shadow: 0 0 0 5px var(--c); }",
    ".panel { display: none; flex-direction: column; width: min(400px, calc(100vw - 24px));",
    "  height: min(600px, calc(100vh - 100px)); background: #fff; border-radius: 12px; overflow: hidden;",
    "  box-shadow: 0 8px 32px rgba(0,0,0,.3); margin-" + vertical + ": 12px; }",
    ".wrap.open .panel { display: flex; } .wrap.open .launcher { display: none; }",
    ".head { background: var(--c); color: #fff; padding: 10px 14px; display: flex; align-items: center; gap: 8px; }",
    ".head h2 { all: unset; font-weight: 700; flex: 1; }",
    ".close { all: unset; cursor: pointer; font-size: 20px; line-height: 1; padding: 2px 6px; border-radius: 6px; }",
    ".close:focus-visible { outline: 2px solid #fff; }",
    ".log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 10px; background: #f6f8fa; }",
    ".msg { padding: 8px 11px; border-radius: 10px; max-width: 92%; white-space: pre-wrap; overflow-wrap: anywhere; }",
    ".user { align-self: flex-end; background: var(--c); color: #fff; }",
    ".bot { align-self: flex-start; background: #fff; border: 1px solid #d0d7de; }",
    ".note { align-self: center; color: #57606a; font-size: 13px; text-align: center; }",
    ".error { align-self: stretch; background: #fff5f5; border: 1px solid #ffc9c9; color: #a61e1e; }",
    ".marker { all: unset; cursor: pointer; color: var(--c); font-weight: 700; padding: 0 1px; }",
    ".marker:focus-visible { outline: 2px solid var(--c); }",
    ".short-answer { display: block; margin-bottom: 6px; }",
    "mark.short { background: #fff3b0; color: inherit; font-weight: 600; }",
    ".sources { display: flex; flex-direction: column; gap: 6px; margin-top: 8px; white-space: normal; }",
    "details { border: 1px solid #d0d7de; border-radius: 8px; background: #fbfcfd; }",
    "summary { cursor: pointer; padding: 5px 8px; font-size: 13px; font-weight: 600; }",
    ".excerpt { padding: 0 8px 8px; font-size: 13px; }",
    "mark { background: #ffe066; color: inherit; }",
    ".open-source { display: inline-block; margin-top: 4px; color: var(--c); font-size: 12px; }",
    "form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid #d0d7de; background: #fff; }",
    "textarea { flex: 1; resize: none; font: inherit; padding: 8px; border: 1px solid #d0d7de; border-radius: 8px; min-height: 40px; max-height: 120px; }",
    "textarea:focus { outline: 2px solid var(--c); border-color: transparent; }",
    ".label { font-size: 12px; font-style: italic; color: #57606a; margin-bottom: 4px; }",
    "button.send { all: unset; cursor: pointer; background: var(--c); color: #fff; border-radius: 8px; padding: 0 14px; font-weight: 600; }",
    "button.send[disabled] { opacity: .5; cursor: default; }",
    "@media (max-width: 480px) { .wrap.open { top: 0; left: 0; right: 0; bottom: 0; }",
    "  .wrap.open .panel { width: 100vw; height: 100vh; border-radius: 0; margin: 0; } }"
  ].join("\n");

  var style = document.createElement("style");
  style.textContent = css;
  root.appendChild(style);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var wrap = el("div", "wrap");
  wrap.style.setProperty("--c", color);
  var launcher = el("button", "launcher", title);
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  var panel = el("section", "panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var head = el("div", "head");
  head.appendChild(el("h2", "", title));
  var close = el("button", "close", "×");
  close.type = "button";
  close.setAttribute("aria-label", "Close");
  head.appendChild(close);
  var log = el("div", "log");
  log.setAttribute("aria-live", "polite");
  log.appendChild(el("div", "note", greeting));
  var form = el("form");
  var input = el("textarea");
  input.rows = 1;
  input.placeholder = placeholder;
  input.setAttribute("aria-label", "Your question");
  input.maxLength = 2000;
  var send = el("button", "send", "Ask");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  wrap.appendChild(launcher);
  wrap.appendChild(panel);
  root.appendChild(wrap);

  function setOpen(open, moveFocus) {
    wrap.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    if (moveFocus === false) return;
    if (open) input.focus(); else launcher.focus();
  }
  launcher.addEventListener("click", function () { setOpen(true); });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.submit(); }
  });

  var history = [];

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // Every sentence an answer quotes from the excerpt ("highlights"; older
  // servers send only the first, as highlight_start/highlight_end).
  function highlights(c) {
    return c.highlights && c.highlights.length ? c.highlights : [[c.highlight_start, c.highlight_end]];
  }

  // The source view marks the words that answer (a=start-end) when they stand in this excerpt.
  function sourceUrl(c, short) {
    var q = new URLSearchParams({ doc: c.source, start: c.start, end: c.end, hs: c.highlight_start, he: c.highlight_end });
    highlights(c).slice(1).forEach(function (h) { q.append("h", h[0] + "-" + h[1]); });
    if (short && short.source === c.source && c.start <= short.start && short.end <= c.end) {
      q.append("a", short.start + "-" + short.end);
    }
    return base + "source?" + q.toString() + "#excerpt";
  }

  function excerptNode(c, short) {
    var box = el("div", "excerpt");
    var spans = highlights(c).map(function (h) { return [h[0] - c.start, h[1] - c.start]; });
    spans.sort(function (x, y) { return x[0] - y[0]; });
    var at = 0;
    spans.forEach(function (h) {
      if (h[0] < at || h[0] >= h[1]) return;
      box.appendChild(document.createTextNode(c.text.slice(at, h[0])));
      box.appendChild(el("mark", "", c.text.slice(h[0], h[1])));
      at = h[1];
    });
    box.appendChild(document.createTextNode(c.text.slice(at)));
    var link = el("a", "open-source", "Open in askdoc ↗");
    link.href = sourceUrl(c, short);
    link.target = "_blank";
    link.rel = "noopener";
    box.appendChild(el("br"));
    box.appendChild(link);
    return box;
  }

  // Answer text with its markers turned into buttons that open their source.
  // Each streamed piece is one sentence and the markers that end it, so a
  // "[12]" inside a quoted sentence (a paper's own reference) stays text.
  // The words that answer (the reader's short answer), marked where the answer quotes them.
  function appendBody(bubble, body, short) {
    var at = short && short.text ? body.indexOf(short.text) : -1;
    if (at < 0) {
      bubble.appendChild(document.createTextNode(body));
      return false;
    }
    bubble.appendChild(document.createTextNode(body.slice(0, at)));
    bubble.appendChild(el("mark", "short", short.text));
    bubble.appendChild(document.createTextNode(body.slice(at + short.text.length)));
    return true;
  }

  function renderAnswer(bubble, pieces, details, short) {
    bubble.textContent = "";
    if (short && short.text) bubble.appendChild(el("strong", "short-answer", short.text));
    var pending = short;
    pieces.forEach(function (piece) {
      var m = /((?:\s*\[\d+\])+)\s*$/.exec(piece);
      var body = m ? piece.slice(0, m.index) : piece;
      if (appendBody(bubble, body, pending)) pending = null;
      (m ? m[1].match(/\[\d+\]|\s+/g) : []).forEach(function (part) {
        var n = /^\[(\d+)\]$/.exec(part);
        if (!n || !details[n[1]]) {
          bubble.appendChild(document.createTextNode(part));
          return;
        }
        var marker = el("button", "marker", part);
        marker.type = "button";
        marker.setAttribute("aria-label", "Show source " + n[1]);
        marker.addEventListener("click", function () {
          var d = details[n[1]];
          d.open = true;
          d.scrollIntoView({ block: "nearest" });
        });
        bubble.appendChild(marker);
      });
    });
  }

  function explain(status, detail) {
    if (status === 401) return "This page needs an access token for askdoc (data-token on the script tag).";
    if (status === 403) return "askdoc refused this page: " + (detail || "its origin is not allowed.");
    if (status === 429) return detail || "Too many questions; try again in a minute.";
    if (status === 422) return detail || "That question can't be asked.";
    return "askdoc answered with an error (" + status + ")" + (detail ? ": " + detail : ".");
  }

  async function ask(question) {
    log.appendChild(el("div", "msg user", question));
    var bubble = el("div", "msg bot", "…");
    log.appendChild(bubble);
    scrollDown();
    send.disabled = true;
    var headers = { "Content-Type": "application/json", "Accept": "text/event-stream" };
    if (token) headers["Authorization"] = "Bearer " + token;
    var text = "";
    var pieces = [];
    var details = {};
    try {
      var response = await fetch(base + "api/ask/stream", {
        // Cookies only on askdoc's own origin (its example page, signed in):
        // a host page's widget sends its data-token, never a session.
        method: "POST", headers: headers, mode: "cors", credentials: "same-origin",
        body: JSON.stringify(scopes.length
          ? { question: question, history: history.slice(-20), scope: scopes }
          : { question: question, history: history.slice(-20) })
      });
      if (!response.ok) {
        var detail = "";
        try { detail = (await response.json()).detail; } catch (e) { /* not JSON */ }
        if (typeof detail !== "string") detail = "";
        bubble.className = "msg error";
        bubble.textContent = explain(response.status, detail);
        return;
      }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      var done = false;
      while (!done) {
        var chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        var events = buffer.split("\n\n");
        buffer = events.pop();
        events.forEach(function (raw) {
          var name = "message", data = "";
          raw.split("\n").forEach(function (line) {
            if (line.indexOf("event: ") === 0) name = line.slice(7);
            else if (line.indexOf("data: ") === 0) data += line.slice(6);
          });
          var payload = data ? JSON.parse(data) : {};
          if (name === "answer") {
            text += payload.text;
            pieces.push(payload.text);
            bubble.textContent = text;
          } else if (name === "citations") {
            var list = el("div", "sources");
            payload.citations.forEach(function (c) {
              var d = el("details");
              var place = c.page ? (/\.pptx$/i.test(c.source) ? "slide " : "page ") + c.page : (c.section || "");
              var summary = el("summary", "", "[" + c.n + "] " + c.source + (place ? " · " + place : ""));
              d.appendChild(summary);
              d.appendChild(excerptNode(c, payload.short_answer));
              list.appendChild(d);
              details[c.n] = d;
            });
            var short = payload.short_answer
              ? { text: payload.short_answer.text.replace(/\s+/g, " ") } : null;
            renderAnswer(bubble, pieces, details, short);
            // Who wrote the answer: an LLM (every sentence checked), or quotes after it failed.
            var label = payload.mode === "generated"
              ? "Written by a language model from the sources; each sentence checked against the excerpt it cites."
              : (payload.note ? payload.note.charAt(0).toUpperCase() + payload.note.slice(1) + "." : "");
            if (label) bubble.insertBefore(el("div", "label", label), bubble.firstChild);
            if (payload.citations.length) bubble.appendChild(list);
          } else if (name === "done") {
            done = true;
          }
        });
        scrollDown();
      }
      history.push({ role: "user", content: question }, { role: "assistant", content: text });
    } catch (err) {
      bubble.className = "msg error";
      bubble.textContent = "Can't reach askdoc at " + base + " (is the server running, and may this page use it?)";
    } finally {
      send.disabled = false;
      scrollDown();
    }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var question = input.value.trim();
    if (!question || send.disabled) return;
    input.value = "";
    ask(question);
  });

  function mount() {
    document.body.appendChild(host);
    if (startOpen) setOpen(true, false);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
