"""Sign-in with OpenID Connect against a real provider running in the test
(oidc-provider-mock, an authlib-based OpenID provider): the code flow with
PKCE, the groups claim applied as permissions, and the ways a sign-in must
fail."""

from __future__ import annotations

import re
import shutil
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support import DEFAULT_DOCS, PageWatch, Server, ui_round_trip

HR_DOC = "hr/pay-bands.txt"
HR_TEXT = "Pay bands for 2027\n\nThe pay band for a senior engineer is 9,400 krona a month.\n"
QUESTION = "What is the pay band for a senior engineer?"
PEOPLE = {"olga": ["sales"], "hanna": ["staff", "hr"]}


@pytest.fixture(scope="module")
def provider():
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        url = f"http://localhost:{server.server_port}"
        for sub, groups in PEOPLE.items():
            claims = {"email": f"{sub}@example.com", "preferred_username": sub, "groups": groups}
            assert httpx.put(f"{url}/users/{sub}", json=claims).status_code == 204
        yield url


@pytest.fixture(scope="module")
def site(provider, tmp_path_factory):
    base = tmp_path_factory.mktemp("oidc")
    docs = base / "docs"
    shutil.copytree(DEFAULT_DOCS, docs)
    (docs / "hr").mkdir()
    (docs / "hr" / "pay-bands.txt").write_text(HR_TEXT, encoding="utf-8")
    (docs / ".permissions.toml").write_text('"" = ["*"]\n"hr" = ["hr"]\n', encoding="utf-8")
    server = Server(docs, base / "index", "--oidc-issuer", provider, "--oidc-client-id", "askdoc-test",
                    "--rate-limit", "0", env={"ASKDOC_OIDC_CLIENT_SECRET": "client-s3cret"}).wait("/embed.js")
    yield server
    server.stop()


def signed_in(site, provider, who: str) -> httpx.Client:
    """A client that went through the whole flow as ``who``, as a browser would."""
    client = httpx.Client(base_url=site.url, timeout=60, headers={"Accept": "text/html"})
    to_start = client.get("/source?doc=admm-plus-2024-singh.txt")
    assert to_start.status_code == 303 and to_start.headers["location"].startswith("/signin/oidc?next=")
    to_provider = client.get(to_start.headers["location"])
    assert to_provider.status_code == 303
    authorize = to_provider.headers["location"]
    sent = parse_qs(urlsplit(authorize).query)
    assert sent["code_challenge_method"] == ["S256"] and sent["code_challenge"] and sent["nonce"] and sent["state"]
    back = httpx.post(authorize, data={"sub": who})  # the provider's sign-in form, filled in
    assert back.status_code in (302, 303), back.text
    landed = client.get(back.headers["location"])
    assert landed.status_code == 303 and landed.headers["location"] == "/source?doc=admm-plus-2024-singh.txt"
    cookie = landed.headers["set-cookie"]
    assert "askdoc_user=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    return client


def test_each_person_signed_in_by_the_provider_reads_what_their_groups_may(site, provider):
    hanna, olga = signed_in(site, provider, "hanna"), signed_in(site, provider, "olga")
    assert "9,400 krona" in hanna.post("/api/ask", json={"question": QUESTION}).json()["answer"]
    said = olga.post("/api/ask", json={"question": QUESTION}).text
    assert "9,400" not in said and "pay-bands" not in said
    assert olga.get("/source", params={"doc": HR_DOC}).status_code == 404
    assert hanna.get("/source", params={"doc": HR_DOC}).status_code == 200


def test_without_a_session_pages_go_to_the_provider_and_the_api_answers_401(site):
    assert httpx.post(site.url + "/api/ask", json={"question": QUESTION}).status_code == 401
    page = httpx.get(site.url + "/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/signin/oidc?next=%2F"


def test_a_callback_this_browser_did_not_start_or_altered_is_refused(site, provider):
    client = httpx.Client(base_url=site.url, timeout=60)
    start = client.get("/signin/oidc", params={"next": "/"})
    authorize = start.headers["location"]
    back = httpx.post(authorize, data={"sub": "hanna"})
    code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
    # Another browser (no flow cookie), a forged state, a made-up code.
    stranger = httpx.get(site.url + "/signin/callback", params={"code": code, "state": "x"})
    assert stranger.status_code == 401 and "started elsewhere" in stranger.text
    forged = client.get("/signin/callback", params={"code": code, "state": "forged"})
    assert forged.status_code == 401 and "does not belong" in forged.text
    made_up = client.get("/signin/callback", params={"code": "made-up", "state": parse_qs(urlsplit(authorize).query)["state"][0]})
    assert made_up.status_code == 401 and "refused" in made_up.text
    # A session cookie this server did not sign is no one.
    altered = httpx.post(site.url + "/api/ask", json={"question": QUESTION}, cookies={"askdoc_user": "askdoc1.e30.x"})
    assert altered.status_code == 401
    assert not re.search("9,400|krona", stranger.text + forged.text + made_up.text)


@pytest.mark.slow
def test_a_person_signs_in_at_the_provider_and_asks_in_the_browser(site, provider, browser):
    watch = PageWatch(browser, site.url)
    watch.allowed.add(urlsplit(provider).netloc)
    page = watch.page
    try:
        page.goto(site.url + "/")
        page.locator("input[name=sub]").fill("hanna")  # the provider's own sign-in form
        page.get_by_role("button", name="Authorize").click()
        page.locator("#askdoc-question textarea").wait_for()
        ui_round_trip(page, QUESTION)
        page.wait_for_function("document.querySelector('#askdoc-sources [data-turn]') !== null", timeout=60_000)
        assert "9,400 krona" in page.locator("#askdoc-chat").inner_text()
    finally:
        watch.context.close()
