// The Documents tab's administrator form: uploads and deletes go to
// /api/documents with the admin token in the X-Askdoc-Admin header, so the
// server's guard checks the token before it reads a byte, and no file ever
// passes through Gradio. After each change the tab's list is reloaded and
// then follows the background refresh.
(function () {
  function $(selector) { return document.querySelector(selector); }
  function say(text) {
    var box = $('#askdoc-admin-message');
    if (box) box.textContent = text;
  }
  function token() {
    var input = $('#askdoc-admin-token-input');
    return input ? input.value.trim() : '';
  }
  function reload() {
    var button = $('#askdoc-documents-reload');
    if (button) button.click();
  }
  function detail(response, body) {
    if (body && typeof body.detail === 'string') return body.detail;
    return 'the server answered ' + response.status;
  }
  async function send(method, url, body) {
    var response = await fetch(url, {method: method, body: body, credentials: 'same-origin',
                                     headers: {'X-Askdoc-Admin': token()}});
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return {ok: response.ok, text: detail(response, data), data: data};
  }
  async function add() {
    var input = $('#askdoc-upload input[type=file]');
    var files = input && input.files ? Array.prototype.slice.call(input.files) : [];
    if (!files.length) { say('Choose files first.'); return; }
    var form = new FormData();
    files.forEach(function (f) { form.append('file', f, f.name); });
    form.append('folder', ($('#askdoc-folder-input') || {}).value || '');
    form.append('replace', $('#askdoc-replace') && $('#askdoc-replace').checked ? 'true' : 'false');
    say('Uploading…');
    var result = await send('POST', 'api/documents', form);
    if (result.ok) {
      say('Added ' + result.data.added.join(', ') + '; the index is refreshing.');
      input.value = '';
      showChosen(input);
      reload();
    } else {
      say(result.text);
    }
  }
  async function remove(button) {
    var doc = button.getAttribute('data-doc');
    if (button.getAttribute('data-armed') !== 'yes') {
      // A second click deletes: one slip of the mouse loses nothing.
      button.setAttribute('data-armed', 'yes');
      button.textContent = 'Delete? Click again';
      return;
    }
    var result = await send('DELETE', 'api/documents/' + doc.split('/').map(encodeURIComponent).join('/'));
    say(result.ok ? 'Deleted ' + doc + '; the index is refreshing.' : result.text);
    if (result.ok) reload();
  }
  function showChosen(input) {
    var label = input.closest('.askdoc-drop');
    var shown = label ? label.querySelector('.askdoc-chosen') : null;
    if (shown) shown.textContent = Array.prototype.map.call(input.files || [], function (f) { return f.name; }).join(', ');
  }
  document.addEventListener('click', function (event) {
    var target = event.target;
    if (!target.closest) return;
    if (target.closest('#askdoc-add')) { event.preventDefault(); add(); return; }
    var del = target.closest('.askdoc-delete');
    if (del) { event.preventDefault(); remove(del); }
  });
  document.addEventListener('change', function (event) {
    if (event.target.matches && event.target.matches('#askdoc-upload input[type=file]')) showChosen(event.target);
  });
  document.addEventListener('dragover', function (event) {
    if (event.target.closest && event.target.closest('.askdoc-drop')) event.preventDefault();
  });
  document.addEventListener('drop', function (event) {
    var zone = event.target.closest ? event.target.closest('.askdoc-drop') : null;
    if (!zone) return;
    event.preventDefault();
    var input = zone.querySelector('input[type=file]');
    input.files = event.dataTransfer.files;
    showChosen(input);
  });
})();
