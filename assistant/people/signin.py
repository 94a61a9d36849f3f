"""The chat page's sign-in with the API token: a form asks for it once, and
a session cookie (HttpOnly, SameSite=Strict) carries it from then on.

The cookie holds an HMAC of the token, not the token: it proves the token
was given without putting it where a copied cookie jar or a log would show
it, and it stops working the moment the server's token changes. Scripts
and the widget keep sending ``Authorization: Bearer``.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from urllib.parse import parse_qs

COOKIE = "askdoc_session"
SIGNIN_PATH = "/signin"


def session_value(token: str) -> str:
    """What the session cookie holds for ``token``.

    >>> len(session_value("s3cret")), session_value("s3cret") == session_value("s3cret")
    (64, True)
    """
    return hmac.new(token.encode(), b"askdoc session v1", hashlib.sha256).hexdigest()


def cookie_of(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The session cookie among a request's headers.

    >>> cookie_of([(b"cookie", b"a=1; askdoc_session=abc; b=2")])
    'abc'
    """
    return cookie_named(headers, COOKIE)


def cookie_named(headers: list[tuple[bytes, bytes]], wanted: str) -> str | None:
    """The cookie ``wanted`` among a request's headers (None: not sent)."""
    for key, value in headers:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, content = part.strip().partition("=")
                if name == wanted:
                    return content
    return None


def set_cookie(token: str, root_path: str, secure: bool) -> bytes:
    """The Set-Cookie header value of a signed-in browser."""
    flags = "; Secure" if secure else ""
    return f"{COOKIE}={session_value(token)}; Path={root_path or '/'}; HttpOnly; SameSite=Strict{flags}".encode()


def local_target(value: str | None, root_path: str) -> str:
    """Where to go after signing in: a path on this server, never elsewhere.

    >>> local_target("/source?doc=a.txt", ""), local_target("//evil.example/", ""), local_target("https://x/", "/ask")
    ('/source?doc=a.txt', '/', '/ask/')
    """
    value = value or ""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return (root_path or "") + "/"
    return value


def form_fields(body: bytes) -> dict[str, str]:
    """An urlencoded form's fields (first value of each).

    >>> form_fields(b"token=a%20b&next=%2F")
    {'token': 'a b', 'next': '/'}
    """
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def oidc_failed_page(root_path: str, message: str) -> bytes:
    """Why an OpenID Connect sign-in did not work, and a way to try again."""
    e = html.escape
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>askdoc: sign-in failed</title>
<style>body {{ font: 16px/1.5 system-ui, sans-serif; margin: 2rem; color: #1f2328; }} a {{ color: #0969da; }}</style>
</head><body><main><h1>askdoc</h1><p role="alert">The sign-in did not work: {e(message)}.</p>
<p><a href="{e(root_path)}/signin/oidc?next={e(root_path)}/">Sign in again</a></p></main></body></html>""".encode()


def signin_page(root_path: str, target: str, message: str = "") -> bytes:
    """The token form; ``message`` says why it is shown again."""
    e = html.escape
    note = f'<p class="note" role="alert">{e(message)}</p>' if message else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>askdoc: sign in</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; display: grid; place-items: center; min-height: 100vh;
  background: #f6f8fa; color: #1f2328; }}
form {{ background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 1.5rem 2rem; max-width: 24rem; }}
h1 {{ font-size: 1.25rem; margin: 0 0 .5rem; }}
label {{ display: block; margin: 1rem 0 .25rem; font-weight: 600; }}
input {{ width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; border: 1px solid #8c959f; border-radius: 6px; }}
button {{ margin-top: 1rem; padding: .5rem 1rem; font: inherit; color: #fff; background: #0969da; border: 0;
  border-radius: 6px; cursor: pointer; }}
.note {{ color: #a40e26; }}
</style></head>
<body><form method="post" action="{e(root_path)}{SIGNIN_PATH}">
<h1>askdoc</h1><p>This server asks for its access token once; your browser then keeps a session.</p>{note}
<label for="askdoc-token">Access token</label>
<input id="askdoc-token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{e(target)}">
<button type="submit">Sign in</button>
</form></body></html>""".encode()
