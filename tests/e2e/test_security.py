"""askdoc attacked as an intranet visitor would: a real ``askdoc serve`` on a
port (real model, real Gradio), spoken to over HTTP and Gradio's queue
protocol directly, and in Chromium. One test per way in that was found open
(issue 22): each of them failed on the server before the one guard.

The main server trusts 127.0.0.1 as a proxy, so each test speaks as its own
client address through ``X-Forwarded-For``: the rate limit and the
wrong-token throttle of one test never touch another's. The proxy test
starts a server that trusts no one.
"""

from __future__ import annotations

import io
import json
import shutil
import threading
import time
import zipfile

import httpx
import pytest

from assistant.guard.access import Access, access_of
from tests.support import DEFAULT_DOCS, GradioSession, PageWatch, Server, route_table, sign_in

API = "api-s3cret-token"
ADMIN = "admin-s3cret-token"
SECRET = "TOP-SECRET line of a file that is no document"
# Document text and names that must never reach a caller without the token.
LEAKS = ("Dong Jun", "admm-plus", "ADMM")

# Served without any token: static files only. A new public route must be added here on purpose.
EXPECTED_PUBLIC = {
    "/embed.js", "/embed-example", "/pdf-assets/{path}", "/api/docs", "/api/docs/static/{path}", "/api/openapi.json",
    "/assets/{path:path}", "/static/{path:path}", "/svelte/{path:path}", "/theme.css", "/gradio_api/theme.css",
    "/favicon.ico", "/robots.txt",
}
# Gradio functions that take files: none may be on the page.
FILE_COMPONENTS = {"file", "files", "uploadbutton", "image", "audio", "video", "gallery", "multimodaltextbox", "model3d"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("security")
    docs = base / "docs"
    shutil.copytree(DEFAULT_DOCS, docs)
    (docs / ".examples").write_text("What did Singh tell Dong Jun?\n", encoding="utf-8")
    outside = base / "outside" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text(SECRET + "\n", encoding="utf-8")
    cache = base / "gradio-cache"
    server = Server(docs, base / "index", "--api-token", API, "--admin-token", ADMIN, "--rate-limit", "5",
                    "--forwarded-allow-ips", "127.0.0.1",
                    env={"GRADIO_TEMP_DIR": str(cache), "ASKDOC_LLM_API_KEY": "llm-s3cret-key"}).wait("/embed.js")
    yield {"server": server, "docs": docs, "outside": outside, "cache": cache, "index": base / "index"}
    server.stop()


_clients = iter(range(1, 250))


def client_of(site, token: str | None = API, **headers) -> httpx.Client:
    """An HTTP client speaking as a fresh address (through the trusted proxy)."""
    headers = {"X-Forwarded-For": f"10.9.0.{next(_clients)}", **headers}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=site["server"].url, headers=headers, timeout=60)


def gradio(site, client: httpx.Client) -> GradioSession:
    config = client_of(site).get("/config").json()
    return GradioSession(client, GradioSession.functions(config))


def server_rss_mb(site) -> float:
    import psutil

    return psutil.Process(site["server"].process.pid).memory_info().rss / 2**20


# 1. The conversation comes from the server, and Gradio never takes or serves a file.
def test_a_chat_history_cannot_smuggle_a_server_file(site):
    client = client_of(site)
    session = gradio(site, client)
    environ = "/proc/self/environ"
    part = lambda path: {"type": "file", "file": {"path": path, "meta": {"_type": "gradio.FileData"}}}  # noqa: E731
    history = [{"role": "user", "content": [part(str(site["outside"]))]}, {"role": "user", "content": [part(environ)]}]
    messages = []
    # The shape of the attack that worked (question, history, turns, scope), then a file in every input.
    for data in (["What did Singh say?", history, [], ""], [part(str(site["outside"])), None, ""],
                 ["What did Singh say?", history, ""], [history, history, history]):
        response = session.join("respond", data)
        if response.status_code == 200:
            messages.append(session_events(session))
        else:
            messages.append(response.text)
    seen = json.dumps(messages)
    assert SECRET not in seen and API not in seen and ADMIN not in seen and "llm-s3cret-key" not in seen
    for cached in (site["cache"].rglob("*") if site["cache"].exists() else []):
        if cached.is_file():
            content = cached.read_bytes()
            assert SECRET.encode() not in content and API.encode() not in content, cached
    for path in (str(site["outside"]), environ, "/etc/passwd", str(site["cache"] / "x")):
        for route in (f"/gradio_api/file={path}", f"/file={path}", f"/gradio_api/file/{path}"):
            assert client.get(route).status_code == 404, route


def session_events(session: GradioSession) -> list:
    with session.client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session.session_hash},
                               timeout=60) as events:
        seen = []
        for line in events.iter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line[5:]))
                if seen[-1].get("msg") in ("process_completed", "close_stream", "unexpected_error"):
                    break
        return seen


def test_the_page_takes_no_files_and_gradio_stores_none(site):
    client = client_of(site)
    config = client.get("/config").json()
    kinds = {c.get("type") for c in config["components"]}
    assert not kinds & FILE_COMPONENTS, kinds & FILE_COMPONENTS
    functions = GradioSession.functions(config)
    assert "add" not in functions  # the Documents tab's server-path copy is gone
    files = {"files": ("x.txt", b"anything")}
    assert client.post("/gradio_api/upload", files=files).status_code == 404
    assert client.get("/gradio_api/upload_progress").status_code == 404
    before = sorted(p.name for p in site["docs"].rglob("*"))
    for name in functions:  # every function, with a server path for every argument
        GradioSession(client, functions).join(name, [str(site["outside"])] * 4)
    assert sorted(p.name for p in site["docs"].rglob("*")) == before


# 2. One guard: every route that returns data needs the token, the chat page included.
def test_every_route_that_returns_data_needs_the_token(site, write_docs, fake_embedder, tmp_path):
    from assistant.app.server import ServerSettings, create_app
    from assistant.core import Assistant
    from index.build import build_index

    docs = write_docs({"a.txt": "Alpha line. The claim sits here.\n"})
    build_index(docs, tmp_path / "index", fake_embedder)
    app = create_app(Assistant.load(tmp_path / "index", embedder=fake_embedder),
                     ServerSettings(index_dir=tmp_path / "index", docs_dir=docs, api_token=API, admin_token=ADMIN))
    routes = route_table(app.app)
    assert len(routes) > 40
    anonymous, signed_in = client_of(site, token=None), client_of(site)
    public, guarded = set(), 0
    for method, path, module in routes:
        access = access_of(method, path.split("{")[0] + "x" if "{" in path else path)
        # askdoc's own routes are all in the guard's table: a route added without it breaks this test.
        if module.startswith(("assistant", "starlette.staticfiles")):
            assert access is not None, f"{method} {path} is served by askdoc but not in the guard's table"
        concrete = path.replace("{path:path}", "index.html").replace("{path}", "x").replace("{doc_id:path}", "a.txt")
        for key in ("{", "}"):
            concrete = concrete.replace(key, "")
        response = anonymous.request(method, concrete, headers={"Accept": "text/html"})
        if access is Access.PUBLIC:
            public.add(path)
            continue
        assert response.status_code in (401, 403, 404), f"{method} {concrete}: {response.status_code}"
        assert not any(leak in response.text for leak in LEAKS), f"{method} {concrete} leaked document data"
        guarded += access is not None
    assert public <= EXPECTED_PUBLIC, f"new public routes: {public - EXPECTED_PUBLIC}"
    assert guarded >= 15
    # The same routes with the token do answer: the walk above refused for the token, not for a typo.
    assert signed_in.get("/source", params={"doc": "admm-plus-2024-singh.txt", "full": "true"}).status_code == 200
    assert "admm-plus" in signed_in.get("/config").text
    # Every function of the chat page, called without the token.
    for name, fn_index in GradioSession.functions(signed_in.get("/config").json()).items():
        for route in ("/gradio_api/queue/join", "/gradio_api/run/predict"):
            body = {"data": [], "fn_index": fn_index, "session_hash": "attacker"}
            assert anonymous.post(route, json=body).status_code == 401, f"{name} through {route}"


def test_without_the_token_nothing_answers_and_no_vote_is_written(site):
    anonymous = client_of(site, token=None)
    page = anonymous.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 401 and "Access token" in page.text
    assert not any(leak in page.text for leak in LEAKS)
    for path, params in (("/source", {"doc": "admm-plus-2024-singh.txt", "full": "true"}), ("/document", {"doc": "a.pdf"}),
                         ("/config", {}), ("/api/documents", {}), ("/v1/models", {}), ("/api/healthz", {})):
        response = anonymous.get(path, params=params)
        assert response.status_code == 401, path
    functions = GradioSession.functions(client_of(site).get("/config").json())
    assert GradioSession(anonymous, functions).join("vote", [None]).status_code == 401
    assert GradioSession(anonymous, functions).join("respond", ["What did Singh tell Dong Jun?", None, ""]).status_code == 401
    assert not (site["index"] / "feedback.jsonl").exists()


def test_insights_need_the_admin_token_and_sum_up_the_audit_trail(site):
    client = client_of(site)
    client.post("/api/ask", json={"question": "What did Singh tell Dong Jun?"}).raise_for_status()
    client.post("/api/ask", json={"question": "What is the price of tea in Lisbon?"}).raise_for_status()
    assert client.get("/api/insights").status_code == 403
    assert client_of(site, token=None).get("/api/insights", headers={"X-Askdoc-Admin": ADMIN}).status_code == 401
    report = client.get("/api/insights", headers={"X-Askdoc-Admin": ADMIN}).json()
    assert report["answers"] >= 2 and "What is the price of tea in Lisbon?" in str(report["unanswered"])
    assert {f["folder"] for f in report["folders"]} == {""} and report["never_cited"] == []
    exported = client.get("/api/insights", params={"format": "csv"}, headers={"X-Askdoc-Admin": ADMIN})
    assert exported.headers["content-type"].startswith("text/csv") and "unanswered" in exported.text


def test_the_chat_page_signs_in_once_with_a_strict_http_only_cookie(site):
    browserless = client_of(site, token=None)
    wrong = browserless.post("/signin", data={"token": "nope", "next": "/"})
    assert wrong.status_code == 401 and "not right" in wrong.text and "set-cookie" not in wrong.headers
    right = browserless.post("/signin", data={"token": API, "next": "//evil.example/"})
    assert right.status_code == 303 and right.headers["location"] == "/"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and API not in cookie
    assert browserless.get("/config").status_code == 200  # the cookie jar now carries the session
    assert browserless.get("/source", params={"doc": "admm-plus-2024-singh.txt"}).status_code == 200
    # A stale cookie (the token changed since) gets the sign-in form, never the throttle: it is no guess.
    stale = client_of(site, token=None, Cookie="askdoc_session=" + "0" * 64)
    assert {stale.get("/config").status_code for _ in range(15)} == {401}
    assert stale.post("/signin", data={"token": API, "next": "/"}).status_code == 303


def test_the_chat_page_counts_against_the_rate_limit(site):
    client = client_of(site)
    session = gradio(site, client)
    codes = [session.join("respond", ["What did Singh tell Dong Jun?", None, ""]).status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429], codes
    refused = session.join("vote", [None])
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert client.post("/api/ask", json={"question": "Who met?"}).status_code == 429  # one limit for every front end
    # Displaying the page is not limited.
    assert session.join(next(n for n in session.fns if n in ("describe", "pick")), []).status_code == 200


# 4. Bodies are limited everywhere, Gradio's included.
def test_a_huge_gradio_call_is_refused_at_once(site):
    client = client_of(site)
    session = gradio(site, client)
    messages = [{"role": "user", "content": "x" * 40}] * 100_000
    began = time.monotonic()
    response = session.join("respond", ["q", messages, ""])
    assert response.status_code == 422 and "64 KB" in response.json()["detail"]
    assert time.monotonic() - began < 5
    began = time.monotonic()
    assert client_of(site).post("/api/ask", json={"question": "What did Singh tell Dong Jun?"}).status_code == 200
    assert time.monotonic() - began < 5


# 5. Office packages that unpack past the limit are never opened.
def bomb(megabytes: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        with package.open("word/document.xml", "w") as member:
            zeros = b"0" * 2**20
            for _ in range(megabytes):
                member.write(zeros)
    return out.getvalue()


def test_an_office_bomb_is_refused_and_skipped(site, write_docs, fake_embedder, tmp_path):
    data = bomb(420)
    assert len(data) < 1_000_000
    client = client_of(site, **{"X-Askdoc-Admin": ADMIN})
    before = server_rss_mb(site)
    response = client.post("/api/documents", files={"file": ("bomb.docx", data)})
    assert response.status_code == 422 and "unpacks to 420 MB, more than 200 MB" in response.json()["detail"]
    assert not (site["docs"] / "bomb.docx").exists()
    assert server_rss_mb(site) - before < 50
    # Dropped into a folder by other means, it is skipped with the reason when indexing.
    from index.build import build_index

    docs = write_docs({"bomb.docx": data, "note.txt": "A plain note.\n"})
    report = build_index(docs, tmp_path / "index", fake_embedder)
    assert {s.path: s.reason for s in report.skipped}["bomb.docx"].startswith("it unpacks to 420 MB")


# 6. An upload is refused before its body is read, and counted as it arrives.
def test_uploads_without_the_admin_token_are_refused_before_their_body(site):
    before = server_rss_mb(site)
    results = []

    def upload(token: str | None):
        headers = {"X-Askdoc-Admin": token} if token else {}
        body = multipart("big.txt", 45)
        try:
            with client_of(site, **headers) as client:
                results.append(client.post("/api/documents", content=body,
                                           headers={"Content-Type": "multipart/form-data; boundary=x"}).status_code)
        except httpx.TransportError:
            results.append("closed")  # the server answered and closed before the body was sent

    threads = [threading.Thread(target=upload, args=(t,)) for t in (None, "wrong") * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(r in (403, 429, "closed") for r in results), results
    assert server_rss_mb(site) - before < 60


def multipart(name: str, megabytes: int):
    """A well-formed multipart upload, streamed: chunked, no Content-Length."""
    yield (f'--x\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
           "Content-Type: text/plain\r\n\r\n").encode()
    for _ in range(megabytes):
        yield b"a" * 2**20
    yield b"\r\n--x--\r\n"


def test_an_upload_past_the_limit_stops_as_it_arrives(site):
    before = server_rss_mb(site)
    body = multipart("big.txt", 60)
    with client_of(site, **{"X-Askdoc-Admin": ADMIN}) as client:
        try:
            response = client.post("/api/documents", content=body,
                                   headers={"Content-Type": "multipart/form-data; boundary=x"})
            assert response.status_code == 413 and "50 MB" in response.json()["detail"]
        except httpx.TransportError:
            pass
    assert not list(site["docs"].glob(".*.upload")) and not (site["docs"] / "big.txt").exists()
    assert server_rss_mb(site) - before < 60


# 7. Bad names and folders: a clear 4xx, nothing written.
@pytest.mark.parametrize("name, folder, status, says", [
    ("a.txt", "/".join(["p" * 200] * 25), 422, "levels deep"),
    ("a.txt", "/".join(["p" * 200] * 8), 422, "bytes long"),
    ("a.txt", "/".join(["d"] * 1000), 422, "levels deep"),
    ("a.txt", "admm-plus-2024-singh.txt", 409, "is a file, not a folder"),
    ("a.txt", "admm-plus-2024-singh.txt/below", 409, "is a file, not a folder"),
    (".", "", 422, "not a usable file name"),
])
def test_bad_names_and_folders_are_a_clear_4xx(site, name, folder, status, says):
    before = sorted(str(p) for p in site["docs"].rglob("*"))
    client = client_of(site, **{"X-Askdoc-Admin": ADMIN})
    response = client.post("/api/documents", files={"file": (name, b"Some text.")}, data={"folder": folder})
    assert response.status_code == status and says in response.json()["detail"], response.text
    assert sorted(str(p) for p in site["docs"].rglob("*")) == before


@pytest.mark.parametrize("name", ["é" * 152 + ".txt", "n" * 300 + ".txt"])
def test_a_long_name_is_shortened_and_keeps_its_suffix(site, name):
    client = client_of(site, **{"X-Askdoc-Admin": ADMIN})
    response = client.post("/api/documents", files={"file": (name, b"A note with a long name.")},
                           data={"folder": "long"})
    assert response.status_code == 201, response.text
    stored = response.json()["added"][0].split("/")[-1]
    assert stored.endswith(".txt") and len(stored.encode()) <= 255
    assert (site["docs"] / "long" / stored).read_bytes() == b"A note with a long name."


# 8. Several files in one request: all stored, or none.
def test_a_request_with_one_bad_file_stores_none(site):
    client = client_of(site, **{"X-Askdoc-Admin": ADMIN})
    files = [("file", ("good.txt", b"A good note.")), ("file", ("bad.pdf", b"MZ not a pdf"))]
    response = client.post("/api/documents", files=files)
    assert response.status_code == 422 and "bad.pdf: the file is not a PDF" in response.json()["detail"]
    assert not (site["docs"] / "good.txt").exists() and not list(site["docs"].glob(".*.upload"))
    twice = [("file", ("same.txt", b"One.")), ("file", ("same.txt", b"Two."))]
    assert client.post("/api/documents", files=twice).status_code == 422
    assert not (site["docs"] / "same.txt").exists()


# 9. A delete removes only what the listing shows.
@pytest.mark.parametrize("target", [".examples", "../outside/secret.txt", "long", "%2e%2e/outside/secret.txt"])
def test_delete_removes_only_listed_documents(site, target):
    client = client_of(site, **{"X-Askdoc-Admin": ADMIN})
    assert client.delete(f"/api/documents/{target}").status_code in (404, 422)
    assert (site["docs"] / ".examples").exists() and site["outside"].exists()


# 10. Wrong tokens are throttled.
@pytest.mark.parametrize("how", ["admin", "api", "signin"])
def test_wrong_tokens_are_throttled_per_client(site, how):
    client = client_of(site, token=None if how != "admin" else API)

    def attempt(secret: str) -> httpx.Response:
        if how == "admin":
            return client.delete("/api/documents/nothing.txt", headers={"X-Askdoc-Admin": secret})
        if how == "api":
            return client.get("/api/healthz", headers={"Authorization": f"Bearer {secret}"})
        return client.post("/signin", data={"token": secret, "next": "/"})

    codes = [attempt(f"guess-{n}").status_code for n in range(30)]
    assert set(codes[:10]) <= {401, 403} and set(codes[10:]) == {429}, codes
    right = attempt(ADMIN if how == "admin" else API)
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1  # no oracle while throttled
    assert client_of(site).get("/api/healthz").status_code == 200  # other clients are not locked out


# 11. Credentials never ride in a URL, and secrets are never logged.
def test_an_llm_url_with_credentials_is_refused_without_echoing_them(tmp_path):
    from click.testing import CliRunner

    from assistant.cli.commands import cli

    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path / "index"),
                                      "--llm-url", "http://alice:hunter2pw@127.0.0.1:9/v1"])
    assert result.exit_code == 2 and "ASKDOC_LLM_API_KEY" in result.output
    assert "hunter2pw" not in result.output and not (tmp_path / "index").exists()


def test_the_server_log_holds_no_secret(site):
    log = site["server"].log.read_text()
    assert API not in log and ADMIN not in log and "llm-s3cret-key" not in log


# 12. X-Forwarded-For counts only from --forwarded-allow-ips.
def test_forwarded_addresses_count_only_from_trusted_proxies(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DEFAULT_DOCS, docs)
    server = Server(docs, tmp_path / "index", "--rate-limit", "3").wait("/embed.js")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            codes = [client.post("/api/ask", json={"question": "Who met?"},
                                 headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code for n in range(5)]
            assert codes == [200, 200, 200, 429, 429]
            spoofed = client.post("/api/ask", json={"question": "Who met?"},
                                  headers={"Origin": "http://evil.example", "X-Forwarded-Host": "evil.example"})
            assert spoofed.status_code == 403
    finally:
        server.stop()


# The chat page after its token prompt, in a real browser.
@pytest.mark.slow
def test_a_person_signs_in_and_asks(site, browser):
    watch = PageWatch(browser, site["server"].url, extra_http_headers={"X-Forwarded-For": "10.9.1.1"})
    page = watch.page
    try:
        page.goto(site["server"].url + "/source?doc=admm-plus-2024-singh.txt")
        page.locator("#askdoc-token").fill("not the token")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("That token is not right.").wait_for()
        sign_in(page, site["server"].url, API)
        box = page.locator("#askdoc-question textarea")
        box.fill("What did Singh tell Dong Jun?")
        box.press("Enter")
        page.wait_for_selector("#askdoc-sources [data-turn='1']", timeout=60_000)
        assert "admm-plus-2024-singh.txt" in page.locator("#askdoc-sources").inner_text()
        cookies = {c["name"]: c for c in watch.context.cookies()}
        assert cookies["askdoc_session"]["httpOnly"] and cookies["askdoc_session"]["sameSite"] == "Strict"
        assert watch.foreign == [] and watch.dialogs == []
        # The only console errors are the two 401s of the sign-in prompts.
        assert all("401" in e for e in watch.errors), watch.errors
    finally:
        watch.close()
