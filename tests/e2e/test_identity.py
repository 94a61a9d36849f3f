"""Who is asking, enforced where answers are made: a real ``askdoc serve``
(real model, real Gradio) behind a proxy that names the person in
``X-Remote-User`` and ``X-Remote-Groups``, with a permissions file that
keeps ``hr/`` to the hr group.

Most tests play the proxy themselves from 127.0.0.1, the one address the
server trusts; a second server that trusts another address shows the same
headers are ignored from anyone else. The last ones put Debian's nginx in
front (basic auth, the groups from a map on the user), as an intranet would,
and a person asks in Chromium through it.
"""

from __future__ import annotations

import os
import shutil
import time

import httpx
import pytest

from assistant.guard.access import Access, access_of
from tests.support import DEFAULT_DOCS, GradioSession, PageWatch, Server, free_port, route_table, ui_round_trip

HR_DOC = "hr/pay-bands.txt"
HR_TEXT = ("Pay bands for 2027\n\nThe pay band for a senior engineer is 9,400 krona a month. "
           "Bands are reviewed by the works council every March.\n")
QUESTION = "What is the pay band for a senior engineer?"
# What an asker outside hr must never see: the HR document's words and its name.
LEAKS = ("9,400", "krona", "works council", "pay-bands", "Pay bands", "hr/")
RULES = '"" = ["*"]\n"hr" = ["hr", "managers"]\n'
OLGA = {"X-Remote-User": "olga", "X-Remote-Groups": "sales"}
HANNA = {"X-Remote-User": "hanna", "X-Remote-Groups": "staff, hr"}


SECRET = "session-s3cret"  # shared with the intranet page's own server, which mints widget sessions


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from assistant.people.sessions import mint
    from tests.e2e.test_widget import HOST_PAGE, StaticSite

    base = tmp_path_factory.mktemp("identity")
    docs = base / "docs"
    shutil.copytree(DEFAULT_DOCS, docs)
    (docs / "hr").mkdir()
    (docs / "hr" / "pay-bands.txt").write_text(HR_TEXT, encoding="utf-8")
    (docs / ".permissions.toml").write_text(RULES, encoding="utf-8")
    (docs / ".examples").write_text(QUESTION + "\n", encoding="utf-8")
    # Intranet pages with the widget, each rendered by its server for one signed-in person.
    port = free_port()
    pages = {}
    for who, groups in (("olga", ["sales"]), ("hanna", ["staff", "hr"])):
        (base / who).mkdir()
        pages[who] = StaticSite(base / who, HOST_PAGE.format(askdoc=f"http://127.0.0.1:{port}", open="true", extra="",
                                                             token=mint(SECRET, who, groups, minutes=30)))
    server = Server(docs, base / "index", "--trust-user-header", "X-Remote-User", "--trust-groups-header",
                    "X-Remote-Groups", "--forwarded-allow-ips", "127.0.0.1", "--rate-limit", "0",
                    "--allowed-origins", ",".join(p.url for p in pages.values()), port=port,
                    env={"ASKDOC_SESSION_SECRET": SECRET}).wait("/embed.js")
    yield {"server": server, "docs": docs, "base": base, "pages": pages}
    server.stop()
    for page in pages.values():
        page.stop()


def client(site, who: dict | None) -> httpx.Client:
    return httpx.Client(base_url=site["server"].url, headers=who or {}, timeout=60)


def leaked(text: str) -> list[str]:
    return [leak for leak in LEAKS if leak in text]


def ask(site, who, **body) -> httpx.Response:
    return client(site, who).post("/api/ask", json={"question": QUESTION, **body})


def test_an_hr_member_reads_hr_and_the_rest(site):
    answer = ask(site, HANNA).json()
    assert "9,400 krona" in answer["answer"] and answer["citations"][0]["source"] == HR_DOC
    hanna = client(site, HANNA)
    assert "9,400" in hanna.get("/source", params={"doc": HR_DOC, "full": "true"}).text
    assert HR_DOC in [d["id"] for d in hanna.get("/api/documents").json()["documents"]]
    assert hanna.get("/api/healthz").json()["documents"] == 2


# Every route that is not a static file, with what it is asked; a route added without a line here fails the walk below.
def outsider_requests() -> dict[tuple[str, str], list[dict]]:
    return {
        ("POST", "/api/ask"): [{"json": {"question": QUESTION}}, {"json": {"question": QUESTION, "scope": "hr"}},
                               {"json": {"question": QUESTION, "scope": [HR_DOC]}},
                               {"json": {"question": "What does the works council review?"}}],
        ("POST", "/api/ask/stream"): [{"json": {"question": QUESTION}}, {"json": {"question": QUESTION, "scope": "hr/"}}],
        ("POST", "/v1/chat/completions"): [{"json": {"model": "askdoc", "messages": [{"role": "user", "content": QUESTION}]}},
                                           {"json": {"model": "askdoc", "stream": True,
                                                     "messages": [{"role": "user", "content": QUESTION}]}}],
        ("GET", "/v1/models"): [{}],
        ("GET", "/source"): [{"params": {"doc": HR_DOC, "full": "true"}}, {"params": {"doc": HR_DOC, "view": "text"}}],
        ("GET", "/document"): [{"params": {"doc": HR_DOC}}],
        ("GET", "/api/documents"): [{}],
        ("GET", "/api/healthz"): [{}],
        ("GET", "/"): [{"headers": {"Accept": "text/html"}}],
        ("GET", "/config"): [{}],
    }


def named_in(request: dict) -> set[str]:
    """What a request itself sends: its question, and the document and folder names it scopes to."""
    body, params = request.get("json", {}), request.get("params", {})
    scope = body.get("scope") or []
    return {*([scope] if isinstance(scope, str) else scope), *([params["doc"]] if "doc" in params else []),
            *([body["question"]] if "question" in body else []), *(m["content"] for m in body.get("messages", []))}


def test_an_asker_outside_hr_gets_not_one_word_of_it_by_any_route(site, tmp_path, fake_embedder):
    olga = client(site, OLGA)
    for (method, path), requests in outsider_requests().items():
        for request in requests:
            response = olga.request(method, path, **request)
            assert response.status_code in (200, 404, 422), f"{method} {path} {request}: {response.status_code}"
            # A refusal may repeat the name the asker sent; nothing else of it.
            said = response.text
            for echoed in sorted(named_in(request), key=len, reverse=True):
                said = said.replace(echoed, "")
            assert not leaked(said), f"{method} {path} {request} told of {leaked(said)}"
    # A scope naming hr reads as one naming nothing at all.
    assert ask(site, OLGA, scope="hr").json()["detail"] == "no document or folder 'hr' in the index"
    assert olga.get("/api/healthz").json()["documents"] == 1
    # The chat page's own functions: the question, the scope picker and the header as filled in for this asker.
    session = GradioSession(olga, GradioSession.functions(olga.get("/config").json()))
    for name, data in [("respond", [QUESTION, None, ""]), ("respond", [QUESTION, None, "hr/"]),
                       ("describe", []), ("pick", []), ("show", [])]:
        if name in session.fns:
            completed = session.call(name, data)
            assert completed["success"] or name == "respond", completed
            said = str(completed["output"])
            for echoed in (d for d in data if isinstance(d, str) and d):
                said = said.replace(echoed, "")
            assert not leaked(said), f"{name} told of {leaked(said)}"
    assert {"respond", "describe", "pick"} <= set(session.fns)
    walked = set(outsider_requests()) | {("POST", "/gradio_api/queue/join"), ("GET", "/gradio_api/queue/data")}
    # Every non-static route askdoc serves is in the walk above (or answers Gradio's protocol only).
    from assistant.app.server import ServerSettings, create_app
    from assistant.core import Assistant
    from index.build import build_index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Alpha line.\n", encoding="utf-8")
    build_index(docs, tmp_path / "index", fake_embedder)
    app = create_app(Assistant.load(tmp_path / "index", embedder=fake_embedder),
                     ServerSettings(index_dir=tmp_path / "index", docs_dir=docs, trust_user_header="X-Remote-User",
                              forwarded_allow_ips=("127.0.0.1",), admin_token="admin"))
    for method, path, _ in route_table(app.app):
        access = access_of(method, path)
        method = "GET" if method == "HEAD" else method
        if access in (Access.DATA, Access.ASK) and not path.startswith("/gradio_api/"):
            assert (method, path) in walked, f"{method} {path} answers askers but no test asks it as an outsider"


def test_without_a_user_nothing_but_static_files_answers(site):
    anonymous = client(site, None)
    assert anonymous.get("/embed.js").status_code == 200
    for method, path in [("POST", "/api/ask"), ("GET", "/api/documents"), ("GET", "/config"), ("GET", "/"),
                         ("GET", "/source")]:
        response = anonymous.request(method, path, json={"question": QUESTION} if method == "POST" else None)
        assert response.status_code == 401 and not leaked(response.text), f"{method} {path}"
    assert client(site, {"X-Remote-User": "", "X-Remote-Groups": "hr"}).post("/api/ask", json={"question": QUESTION}).status_code == 401


def test_a_permissions_change_takes_effect_without_a_restart(site):
    rules = site["docs"] / ".permissions.toml"
    try:
        rules.write_text('"" = ["*"]\n"hr" = ["hr", "sales"]\n', encoding="utf-8")
        deadline = time.monotonic() + 10
        while "9,400" not in ask(site, OLGA).text and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "9,400 krona" in ask(site, OLGA).json()["answer"]
        # A broken change keeps the rules before it: it never opens (or closes) anything by accident.
        rules.write_text('"" = ["*"]\n"hr" = "sales"\n', encoding="utf-8")
        os.utime(rules, None)
        assert "9,400 krona" in ask(site, OLGA).json()["answer"]
    finally:
        rules.write_text(RULES, encoding="utf-8")
        os.utime(rules, None)
    deadline = time.monotonic() + 10
    while leaked(ask(site, OLGA).text) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not leaked(ask(site, OLGA).text)


def test_identity_headers_from_an_untrusted_address_are_ignored(site, tmp_path):
    server = Server(site["docs"], site["base"] / "index", "--no-ui", "--trust-user-header", "X-Remote-User",
                    "--forwarded-allow-ips", "10.11.12.13").wait("/embed.js")
    try:
        response = httpx.post(server.url + "/api/ask", json={"question": QUESTION}, headers=HANNA, timeout=60)
        assert response.status_code == 401 and not leaked(response.text)
    finally:
        server.stop()


@pytest.mark.parametrize("rules, trusted, says", [
    ('"" = ["*"]\n"hr" = "hr"\n', "127.0.0.1", 'line 2: "hr" must list groups'),
    ('"" = ["*"]\n', "", "--trust-user-header needs --forwarded-allow-ips"),
])
def test_a_server_that_cannot_apply_its_permissions_does_not_start(site, tmp_path, rules, trusted, says):
    (tmp_path / "rules.toml").write_text(rules, encoding="utf-8")
    server = Server(site["docs"], site["base"] / "index", "--no-ui", "--trust-user-header", "X-Remote-User",
                    "--permissions", str(tmp_path / "rules.toml"), *(["--forwarded-allow-ips", trusted] if trusted else []))
    try:
        assert server.process.wait(60) != 0
        assert says in server.log.read_text()
    finally:
        server.stop()


def test_every_answer_is_in_the_audit_trail_with_who_asked(site):
    from assistant.people.audit import read

    ask(site, HANNA)
    ask(site, OLGA, scope="hr")  # refused: not an answer
    session = GradioSession(client(site, OLGA), GradioSession.functions(client(site, OLGA).get("/config").json()))
    session.call("respond", ["Who did Singh meet?", None, ""])
    records = read(site["base"] / "index" / "audit.jsonl")
    hanna = [r for r in records if r["user"] == "hanna" and r["question"] == QUESTION]
    assert hanna and hanna[-1]["cited"][0] == HR_DOC and hanna[-1]["groups"] == ["hr", "staff"]
    olga = [r for r in records if r["user"] == "olga" and r["question"] == "Who did Singh meet?"]
    assert olga and olga[-1]["groups"] == ["sales"] and HR_DOC not in olga[-1]["cited"]  # the chat page's too
    assert not [r for r in records if r["user"] == "olga" and r.get("scope") == ["hr"]]  # a refusal is no answer


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORDS = {"olga": "olga-pw", "hanna": "hanna-pw"}


@pytest.fixture(scope="module")
def proxy(site, tmp_path_factory):
    """Debian's nginx on a free port: basic auth, then X-Remote-User and X-Remote-Groups to askdoc."""
    import subprocess

    if not os.path.exists(NGINX):
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: make test installs it (Debian package nginx)")
        pytest.skip("nginx not installed (apt-get install nginx)")
    work = tmp_path_factory.mktemp("nginx")
    (work / "htpasswd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in PASSWORDS.items()), encoding="utf-8")
    port = free_port()
    upstream = site["server"].url.removeprefix("http://")
    temp = " ".join(f"{kind}_temp_path {work}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (work / "nginx.conf").write_text(f"""
user root;
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  {temp}
  map $remote_user $askdoc_groups {{ default ""; olga "sales"; hanna "staff, hr"; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      auth_basic "Intranet";
      auth_basic_user_file {work}/htpasswd;
      proxy_set_header X-Remote-User $remote_user;
      proxy_set_header X-Remote-Groups $askdoc_groups;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_read_timeout 120s;
      proxy_pass http://{upstream};
    }}
  }}
}}
""", encoding="utf-8")
    process = subprocess.Popen([NGINX, "-p", str(work), "-c", str(work / "nginx.conf")], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/embed.js", timeout=2)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(10)


def test_through_nginx_each_person_gets_what_they_may_read(proxy):
    assert httpx.post(proxy + "/api/ask", json={"question": QUESTION}).status_code == 401  # nginx asks first
    # Whatever a client claims, nginx replaces it with who signed in.
    olga = httpx.Client(base_url=proxy, auth=("olga", PASSWORDS["olga"]), headers=HANNA, timeout=60)
    answer = olga.post("/api/ask", json={"question": QUESTION}).json()
    assert not leaked(str(answer)), answer
    assert olga.get("/source", params={"doc": HR_DOC}).status_code == 404
    hanna = httpx.Client(base_url=proxy, auth=("hanna", PASSWORDS["hanna"]), timeout=60)
    assert "9,400 krona" in hanna.post("/api/ask", json={"question": QUESTION}).json()["answer"]


@pytest.mark.slow
@pytest.mark.parametrize("user, reads_hr", [("olga", False), ("hanna", True)])
def test_a_person_asks_in_the_browser_through_nginx(proxy, browser, user, reads_hr):
    watch = PageWatch(browser, proxy, http_credentials={"username": user, "password": PASSWORDS[user]})
    page = watch.page
    try:
        page.goto(proxy + "/")
        page.locator("#askdoc-question textarea").wait_for()
        ui_round_trip(page, QUESTION)
        page.wait_for_function("document.querySelector('#askdoc-sources [data-turn]') !== null", timeout=60_000)
        chat, sources = page.locator("#askdoc-chat").inner_text(), page.locator("#askdoc-sources").inner_text()
        header = page.locator("#askdoc-header").inner_text()
        if reads_hr:
            assert "9,400 krona" in chat and HR_DOC in sources and "2 document(s)" in header
        else:
            assert not leaked(chat + sources + page.content()), leaked(chat + sources + page.content())
            assert "1 document(s)" in header
        assert not watch.errors and not watch.foreign
    finally:
        watch.context.close()


def session_of(site, user: str, groups, minutes: float = 5) -> httpx.Response:
    return httpx.post(site["server"].url + "/api/session", json={"user": user, "groups": groups, "minutes": minutes},
                      headers={"Authorization": f"Bearer {SECRET}"}, timeout=30)


def test_a_widget_session_minted_by_the_pages_server_reads_as_its_person(site):
    from assistant.people.sessions import mint

    olga, hanna = session_of(site, "olga", ["sales"]).json(), session_of(site, "hanna", "staff, hr").json()
    assert olga["expires_in"] == 300 and olga["token"].startswith("askdoc1.")
    said = ask(site, {"Authorization": f"Bearer {olga['token']}"}).text
    assert not leaked(said.replace(QUESTION, "")), said
    assert "9,400 krona" in ask(site, {"Authorization": f"Bearer {hanna['token']}"}).json()["answer"]
    # Expired, forged or altered tokens are no one.
    expired = mint(SECRET, "hanna", ["hr"], minutes=1, now=time.time() - 120)
    forged = mint("a guess", "hanna", ["hr"], minutes=5)
    altered = hanna["token"][:-3] + ("AAA" if not hanna["token"].endswith("AAA") else "BBB")
    for token, says in ((expired, "expired"), (forged, "expired"), (altered, "expired")):
        response = ask(site, {"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and says in response.json()["detail"] and not leaked(response.text)


@pytest.mark.parametrize("secret, body, status", [
    (None, {"user": "hanna", "groups": ["hr"]}, 401),
    ("wrong", {"user": "hanna", "groups": ["hr"]}, 401),
    (SECRET, {"user": "", "groups": ["hr"]}, 422),
    (SECRET, {"user": "hanna", "groups": ["hr"], "minutes": 61}, 422),
    (SECRET, {"user": "hanna", "groups": ["hr"], "minutes": 0}, 422),
    (SECRET, {"user": "hanna", "groups": [3]}, 422),
])
def test_only_the_pages_server_mints_sessions_and_only_short_ones(site, secret, body, status):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    response = httpx.post(site["server"].url + "/api/session", json=body, headers=headers, timeout=30)
    assert response.status_code == status and "token" not in response.json()


@pytest.mark.slow
@pytest.mark.parametrize("user, reads_hr", [("olga", False), ("hanna", True)])
def test_the_widget_on_an_intranet_page_answers_its_person(site, browser, user, reads_hr):
    from tests.support import ask_widget

    page_site = site["pages"][user]
    watch = PageWatch(browser, page_site.url)
    watch.allowed.add(site["server"].url.split("://", 1)[1])
    page = watch.page
    try:
        page.goto(page_site.url + "/")
        ask_widget(page, QUESTION)
        page.wait_for_function(
            """() => { const root = document.querySelector('#askdoc-widget').shadowRoot;
                       return root.querySelectorAll('.msg.bot, .msg.error').length >= 1
                              && !root.querySelector('button.send').disabled; }""", timeout=60_000)
        said = page.locator("#askdoc-widget .msg").last.inner_text()
        if reads_hr:
            assert "9,400 krona" in said
        else:
            assert not leaked(said) and "9,400" not in page.content()
        assert not watch.foreign and not watch.dialogs
    finally:
        watch.context.close()


def test_a_server_that_knows_no_users_says_so_when_others_can_reach_it(site):
    server = Server(site["docs"], site["base"] / "index", "--no-ui", "--host", "0.0.0.0").wait("/embed.js")
    try:
        assert "askdoc knows no users" in server.log.read_text()
    finally:
        server.stop()
    quiet = Server(site["docs"], site["base"] / "index", "--no-ui").wait("/embed.js")
    try:
        assert "knows no users" not in quiet.log.read_text()
    finally:
        quiet.stop()
