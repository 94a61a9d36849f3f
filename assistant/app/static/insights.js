// The Insights tab: what people asked and could not find, read from
// /api/insights with the admin token in the X-Askdoc-Admin header (the guard
// checks it), drawn here as tables; the CSV is the same report for a
// spreadsheet. Every value is set as text, never as HTML.
(function () {
  function $(selector) { return document.querySelector(selector); }
  function el(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function table(caption, headers, rows) {
    var wrap = el('section');
    wrap.appendChild(el('h3', caption));
    if (!rows.length) { wrap.appendChild(el('p', 'Nothing yet.')); return wrap; }
    var t = el('table'); t.className = 'askdoc-documents';
    var head = el('tr');
    headers.forEach(function (h) { head.appendChild(el('th', h)); });
    var thead = el('thead'); thead.appendChild(head); t.appendChild(thead);
    var body = el('tbody');
    rows.forEach(function (row) {
      var tr = el('tr');
      row.forEach(function (cell) { tr.appendChild(el('td', cell)); });
      body.appendChild(tr);
    });
    t.appendChild(body); wrap.appendChild(t);
    return wrap;
  }
  function token() { var input = $('#askdoc-insights-token'); return input ? input.value.trim() : ''; }
  function say(text) { var box = $('#askdoc-insights-message'); if (box) box.textContent = text; }
  async function fetchReport(format) {
    var response = await fetch('api/insights' + (format ? '?format=' + format : ''),
                               {credentials: 'same-origin', headers: {'X-Askdoc-Admin': token()}});
    if (!response.ok) {
      var detail = 'the server answered ' + response.status;
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    return response;
  }
  async function show() {
    say('Reading the audit trail…');
    try {
      var report = await (await fetchReport('')).json();
      var out = $('#askdoc-insights-report');
      out.textContent = '';
      out.appendChild(el('p', report.answers + ' answers, ' + report.abstained + ' of them found nothing.'));
      out.appendChild(table('Asked and not found', ['question', 'times', 'asked as'],
        report.unanswered.map(function (g) { return [g.question, g.count, g.asked_as.join(' | ')]; })));
      out.appendChild(table('Answers voted down', ['question', 'cited', 'when'],
        report.voted_down.map(function (v) { return [v.question || '', v.cited.join(', '), v.time || '']; })));
      out.appendChild(table('Most asked', ['question', 'times'],
        report.most_asked.map(function (g) { return [g.question, g.count]; })));
      out.appendChild(table('Never cited', ['document'], report.never_cited.map(function (d) { return [d]; })));
      out.appendChild(table('By folder', ['folder', 'documents', 'answers citing it', 'citations'],
        report.folders.map(function (f) { return [f.folder || '(top)', f.documents, f.answers, f.citations]; })));
      say('');
    } catch (error) { say(error.message); }
  }
  async function download() {
    try {
      var blob = await (await fetchReport('csv')).blob();
      var link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = 'askdoc-insights.csv';
      document.body.appendChild(link); link.click(); link.remove();
      say('');
    } catch (error) { say(error.message); }
  }
  document.addEventListener('click', function (event) {
    if (!event.target.closest) return;
    if (event.target.closest('#askdoc-insights-show')) { event.preventDefault(); show(); }
    if (event.target.closest('#askdoc-insights-csv')) { event.preventDefault(); download(); }
  });
})();
