"""What the guard answers itself, as raw ASGI messages: refusals as JSON
with CORS headers for the asking origin (a widget can show why), pages,
redirects; and the headers it adds to the app's own answers."""

from __future__ import annotations

import json


def header(scope, name: bytes) -> str | None:
    """A request header's value (the first one), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def peer_of(scope) -> str:
    """The address of the request's TCP peer ("" when the server does not know it).

    >>> peer_of({"client": ("10.0.0.7", 51234)}), peer_of({"client": None})
    ('10.0.0.7', '')
    """
    return scope["client"][0] if scope.get("client") else ""


def bearer(scope) -> str | None:
    """The token of ``Authorization: Bearer TOKEN`` ("" for another scheme, None without the header)."""
    given = header(scope, b"authorization")
    if given is None:
        return None
    scheme, _, token = given.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def target_of(scope) -> str:
    """The path and query a request asked for: where to come back to after signing in."""
    query = scope.get("query_string")
    return scope["path"] + (f"?{query.decode('latin-1')}" if query else "")


def wants_page(scope) -> bool:
    """A browser asking for a page (not a script asking for data)."""
    return scope["method"] == "GET" and "text/html" in (header(scope, b"accept") or "")


def cors_headers(origin: str | None) -> list[tuple[bytes, bytes]]:
    if origin is None:
        return []
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"vary", b"Origin"),
        (b"access-control-allow-headers", b"Authorization, Content-Type, X-Askdoc-Admin"),
        (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
        (b"access-control-max-age", b"600"),
    ]


async def refuse(send, status: int, detail: str, origin: str | None, extra=()) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *cors_headers(origin), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def json_reply(send, data: dict, origin: str | None) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store"), *cors_headers(origin)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def html_page(send, status: int, page: bytes, extra=()) -> None:
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode()),
               (b"cache-control", b"no-store"), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": page})


async def redirect(send, target: str, extra=()) -> None:
    headers = [(b"location", target.encode("latin-1", "replace")), (b"content-length", b"0"), *extra]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def with_cors(send, origin: str | None):
    """``send`` adding the CORS headers of ``origin`` to the app's answer."""
    cors = cors_headers(origin)
    if not cors:
        return send

    async def wrapped(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *cors]}
        await send(message)

    return wrapped


def with_frame_policy(send, policy: bytes):
    """``send`` adding ``Content-Security-Policy: frame-ancestors …`` to HTML
    answers (replacing any frame-ancestors the app set, keeping the rest)."""

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
            if content_type.startswith(b"text/html"):
                existing = [i for i, (k, _) in enumerate(headers) if k.lower() == b"content-security-policy"]
                if existing:
                    i = existing[0]
                    value = headers[i][1]
                    if b"frame-ancestors" in value:
                        value = b";".join(p for p in value.split(b";") if b"frame-ancestors" not in p)
                    headers[i] = (headers[i][0], value.rstrip(b"; ") + b"; " + policy)
                else:
                    headers.append((b"content-security-policy", policy))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped
