"""Request guards for the HTTP server, as one ASGI middleware.

In order, for every request:

1. A ``--root-path`` prefix becomes the ASGI ``root_path`` (and is added
   to the path where a proxy stripped it), so the app answers behind a proxy
   that keeps the prefix and behind one that strips it.
2. On ``/api/*`` and ``/v1/*`` (the OpenAI-compatible routes): the caller's origin must be the server's own or one of
   ``--allowed-origins`` (403 otherwise); a configured ``--api-token`` must
   come as ``Authorization: Bearer …`` (401); a client may ask at most
   ``--rate-limit`` questions a minute (429 with ``Retry-After``); a body may
   hold at most 64 KB (422), an upload to ``/api/documents`` at most
   ``--max-upload-mb`` (413).
3. HTML pages get ``Content-Security-Policy: frame-ancestors`` with the same
   origins, so only allowed sites can frame the app.

Refusals carry CORS headers for the asking origin: the body says only why it
was refused, and a widget on that page can show the reason to its reader.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

MAX_BODY_BYTES = 64 * 1024
UPLOAD_PATH = "/api/documents"  # the one route whose body may be a file (up to Policy.max_upload_bytes)
ASK_PATHS = ("/api/ask", "/api/ask/stream", "/v1/chat/completions")
OPEN_API_PATHS = ("/api/docs", "/api/openapi.json")


@dataclass(frozen=True)
class Policy:
    allowed_origins: tuple[str, ...] = ()
    api_token: str | None = None
    rate_limit: int = 30  # questions per client per minute; 0 turns the limit off
    root_path: str = ""
    max_body_bytes: int = MAX_BODY_BYTES
    max_upload_bytes: int = 50 * 2**20

    def allows_any_origin(self) -> bool:
        return "*" in self.allowed_origins


def parse_origins(value: str | None) -> tuple[str, ...]:
    """Comma-separated origins, normalized without a trailing slash.

    >>> parse_origins(" http://a.example:8080/, https://b.example ,")
    ('http://a.example:8080', 'https://b.example')
    """
    return tuple(o.strip().rstrip("/") for o in (value or "").split(",") if o.strip())


def normalize_root_path(value: str | None) -> str:
    """'/prefix' form, or '' for none.

    >>> normalize_root_path("askdoc/"), normalize_root_path("/"), normalize_root_path(None)
    ('/askdoc', '', '')
    """
    value = (value or "").strip().strip("/")
    return f"/{value}" if value else ""


class RateLimiter:
    """At most ``limit`` events per client in any 60-second window."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> float:
        """0 when allowed (and counted), else seconds until the next slot.

        >>> limiter = RateLimiter(2)
        >>> limiter.check("a", 0.0), limiter.check("a", 1.0), limiter.check("a", 2.0)
        (0.0, 0.0, 58.0)
        >>> limiter.check("b", 2.0), limiter.check("a", 60.5)
        (0.0, 0.0)
        """
        if self.limit <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(client, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.0, events[0] + self.window - now)
            events.append(now)
            if len(self._events) > 10_000:  # forget idle clients so memory stays bounded
                for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                    del self._events[key]
            return 0.0


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def own_origin_netloc(scope) -> str | None:
    host = _header(scope, b"x-forwarded-host") or _header(scope, b"host")
    return host.split(",")[0].strip().lower() if host else None


@dataclass
class Guard:
    """The ASGI middleware applying a ``Policy`` around ``app``."""

    app: object
    policy: Policy
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.policy.rate_limit)

    def origin_allowed(self, origin: str | None, scope) -> bool:
        if origin is None:
            return True  # not a browser cross-origin request: curl, scripts, same-origin GET
        origin = origin.rstrip("/")
        if self.policy.allows_any_origin() or origin in self.policy.allowed_origins:
            return True
        netloc = origin.split("://", 1)[-1].lower()
        return netloc == own_origin_netloc(scope)

    def frame_ancestors(self) -> str:
        if self.policy.allows_any_origin():
            return "frame-ancestors *"
        return " ".join(["frame-ancestors 'self'", *self.policy.allowed_origins])

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        scope = self._with_prefix(scope)
        path = scope["path"][len(self.policy.root_path):] or "/"
        if scope["type"] == "http" and path.startswith(("/api/", "/v1/")) and path not in OPEN_API_PATHS \
                and not path.startswith("/api/docs"):
            return await self._guard_api(scope, receive, send, path)
        return await self.app(scope, receive, self._with_frame_policy(send))

    def _with_prefix(self, scope):
        """ASGI wants ``path`` to include ``root_path``: add the prefix where a
        proxy stripped it, so both kinds of proxy reach the same routes."""
        prefix = self.policy.root_path
        if not prefix:
            return scope
        scope = dict(scope)
        path = scope["path"]
        if not (path == prefix or path.startswith(prefix + "/")):
            scope["path"] = prefix + path
            if scope.get("raw_path") is not None:
                scope["raw_path"] = prefix.encode() + scope["raw_path"]
        scope["root_path"] = prefix
        return scope

    def _with_frame_policy(self, send):
        policy = self.frame_ancestors().encode()

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

    def _cors_headers(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        if origin is None:
            return []
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"vary", b"Origin"),
            (b"access-control-allow-headers", b"Authorization, Content-Type, X-Askdoc-Admin"),
            (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
            (b"access-control-max-age", b"600"),
        ]

    async def _refuse(self, send, status: int, detail: str, origin: str | None, extra=()) -> None:
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   *self._cors_headers(origin), *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _guard_api(self, scope, receive, send, path: str):
        origin = _header(scope, b"origin")
        if scope["method"] == "OPTIONS":
            # Preflights always pass, so the real request can be refused with
            # a reason the asking page can read.
            headers = [(b"content-length", b"0"), *self._cors_headers(origin)]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if not self.origin_allowed(origin, scope):
            return await self._refuse(
                send, 403, f"origin {origin} is not allowed to use this askdoc server "
                           "(the administrator can add it with --allowed-origins)", origin)
        if self.policy.api_token:
            given = _header(scope, b"authorization") or ""
            scheme, _, token = given.partition(" ")
            if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), self.policy.api_token.encode()):
                return await self._refuse(send, 401, "a valid API token is required (Authorization: Bearer …)", origin,
                                          [(b"www-authenticate", b"Bearer")])
        if path in ASK_PATHS and scope["method"] == "POST":
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = self.limiter.check(client)
            if wait:
                seconds = max(1, int(wait + 0.999))
                return await self._refuse(
                    send, 429, f"too many questions: at most {self.policy.rate_limit} a minute; try again in {seconds} s",
                    origin, [(b"retry-after", str(seconds).encode())])
        length = _header(scope, b"content-length")
        limit = self.policy.max_body_bytes
        if path == UPLOAD_PATH and scope["method"] == "POST":
            limit = self.policy.max_upload_bytes + 64 * 1024  # the file and its multipart framing
        too_large = f"the request body is larger than {limit // 1024:,} KB"
        status = 413 if path == UPLOAD_PATH else 422
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._refuse(send, status, too_large, origin)
        body = await self._read_body(receive, limit)
        if body is None:
            return await self._refuse(send, status, too_large, origin)
        cors = self._cors_headers(origin) if origin else []

        async def send_with_cors(message):
            if message["type"] == "http.response.start" and cors:
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self.app(scope, self._replay(body, receive), send_with_cors)

    async def _read_body(self, receive, limit: int) -> bytes | None:
        """The whole body (at most ``limit`` bytes: 64 KB but for an upload),
        or None past it; a chunked body has no Content-Length to check in
        advance."""
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    @staticmethod
    def _replay(body: bytes, receive):
        sent = False

        async def wrapped():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect

        return wrapped
