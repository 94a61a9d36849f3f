// askdoc's PDF page view: the cited page rendered by PDF.js (vendored in
// ./pdfjs, no CDN), its text layer on top, and the cited sentences marked
// on that text layer and scrolled into view.
//
// The sentences come from askdoc's own extraction of the PDF (pypdf), which
// spaces and breaks lines differently from PDF.js: they are matched on
// letters and digits only, case folded, so "emphasized  the\nneed" finds
// "emphasized the need". A sentence not found on the page is reported in
// the header, never marked somewhere else.
import * as pdfjsLib from "./pdfjs/pdf.min.mjs";

const root = document.getElementById("askdoc-pdf");
const config = JSON.parse(root.dataset.config);
const assets = new URL("./pdfjs/", import.meta.url).href;
pdfjsLib.GlobalWorkerOptions.workerSrc = assets + "pdf.worker.min.mjs";

function folded(text) {
  // Each kept character of ``text`` with its position: letters and digits, lower case.
  const chars = [];
  const where = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (/[\p{L}\p{N}]/u.test(c)) {
      chars.push(c.toLowerCase());
      where.push(i);
    }
  }
  return { text: chars.join(""), where };
}

function markRange(div, from, to) {
  // Wrap characters [from, to) of a text-layer span in <mark>; the rest stays text.
  const text = div.textContent;
  const mark = document.createElement("mark");
  mark.className = "askdoc-hit";
  mark.textContent = text.slice(from, to);
  div.textContent = "";
  if (from > 0) div.append(text.slice(0, from));
  div.append(mark);
  if (to < text.length) div.append(text.slice(to));
  return mark;
}

function highlight(layer, sentences) {
  const divs = layer.textDivs;
  const strings = layer.textContentItemsStr;
  // One folded string for the page, each character knowing its span and offset.
  let page = "";
  const owner = [];
  strings.forEach((s, d) => {
    const f = folded(s);
    page += f.text;
    f.where.forEach((offset) => owner.push([d, offset]));
  });
  const marks = [];
  let found = 0;
  const cuts = new Map(); // span -> [from, to) to mark
  for (const sentence of sentences) {
    const needle = folded(sentence).text;
    if (!needle) continue;
    const at = page.indexOf(needle);
    if (at < 0) continue;
    found += 1;
    for (let k = at; k < at + needle.length; k++) {
      const [d, offset] = owner[k];
      const cut = cuts.get(d) || [offset, offset + 1];
      cuts.set(d, [Math.min(cut[0], offset), Math.max(cut[1], offset + 1)]);
    }
    // The sentence's closing punctuation ("then." or "end?”") is part of it too.
    const [last] = owner[at + needle.length - 1];
    const cut = cuts.get(last);
    const text = strings[last];
    while (cut[1] < text.length && /[^\s\p{L}\p{N}]/u.test(text[cut[1]])) cut[1] += 1;
  }
  for (const [d, [from, to]] of [...cuts.entries()].sort((a, b) => a[0] - b[0])) {
    marks.push(markRange(divs[d], from, to));
  }
  return { marks, found };
}

async function show() {
  const status = document.getElementById("askdoc-status");
  try {
    const pdf = await pdfjsLib.getDocument({
      url: config.file, isEvalSupported: false, enableScripting: false,
      standardFontDataUrl: assets + "standard_fonts/", wasmUrl: assets + "wasm/",
    }).promise;
    const number = Math.min(Math.max(1, config.page), pdf.numPages);
    document.getElementById("askdoc-pages").textContent = `page ${number} of ${pdf.numPages}`;
    const page = await pdf.getPage(number);
    const natural = page.getViewport({ scale: 1 });
    // The page fits the frame's width (its padding left out): a sentence is never cut off at the right.
    const style = getComputedStyle(root);
    const inner = (root.clientWidth || 800) - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const width = Math.min(inner, 1100);
    const scale = Math.max(0.2, Math.min(2.5, width / natural.width));
    const viewport = page.getViewport({ scale });
    const sheet = document.getElementById("askdoc-page");
    sheet.style.setProperty("--scale-factor", String(scale));
    sheet.style.setProperty("--total-scale-factor", String(scale));
    sheet.style.width = `${Math.floor(viewport.width)}px`;
    sheet.style.height = `${Math.floor(viewport.height)}px`;
    sheet.dataset.scale = String(scale);
    const canvas = sheet.querySelector("canvas");
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = `${Math.floor(viewport.width)}px`;
    canvas.style.height = `${Math.floor(viewport.height)}px`;
    await page.render({
      canvasContext: canvas.getContext("2d"), viewport,
      transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
    }).promise;
    const layer = new pdfjsLib.TextLayer({
      textContentSource: await page.getTextContent(), container: sheet.querySelector(".textLayer"), viewport,
    });
    await layer.render();
    const { marks, found } = highlight(layer, config.sentences);
    root.dataset.found = `${found}/${config.sentences.length}`;
    if (marks.length) {
      marks[0].scrollIntoView({ block: "center" });
      status.textContent = "";
    } else if (config.sentences.length) {
      status.textContent = "· the cited sentence was not found on this page's text; the text view shows it";
    }
  } catch (error) {
    root.dataset.found = "error";
    status.textContent = `· this PDF cannot be shown (${error && error.message ? error.message : error}); the text view shows the passage`;
  }
  root.dataset.ready = "1";
}

show();
