"""The one guard in front of the whole server, as an ASGI middleware: every
request passes it before FastAPI or the mounted Gradio app sees it.

In order, for every request:

1. A ``--root-path`` prefix becomes the ASGI ``root_path`` (and is added to
   the path where a proxy stripped it), so the app answers behind a proxy
   that keeps the prefix and behind one that strips it.
2. With ``--trust-user-header``, the person asking is who a trusted proxy's
   identity headers name (``identity.py``); a request without one gets 401
   on every route but static files.
3. The client is the TCP peer, unless the peer is one of
   ``--forwarded-allow-ips``: then ``X-Forwarded-For``/``-Proto``/``-Host``
   say who and where (uvicorn's meaning). From anyone else those headers are
   removed, so no one rotates an address past the rate limit.
4. The route table (``access.ROUTES``) decides: a path it does not name is
   404; static files pass; everything that answers, returns document text
   or bytes, lists documents, writes feedback or accepts files needs, in
   order: an allowed origin (403), the API token as ``Authorization:
   Bearer`` or the chat page's session cookie (401; a browser asking for a
   page gets the sign-in form), the admin token for writes (403), at most
   ``--rate-limit`` questions and votes a minute per client (429 with
   ``Retry-After``), and a body of at most 64 KB, or ``--max-upload-mb`` for
   an upload, counted as the bytes arrive (413).
5. Wrong tokens are throttled: past ``GuardSettings.failed_attempts`` a minute, a
   client that sends any token is answered 429 until the minute is over.
6. HTML pages get ``Content-Security-Policy: frame-ancestors`` with the
   allowed origins, so only allowed sites can frame the app.

Refusals carry CORS headers for the asking origin: the body says only why it
was refused, and a widget on that page can show the reason to its reader.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from assistant.guard.access import ADMIN_HEADER, Access, access_of, is_routed
from assistant.guard.askers import SESSION, mint_session, oidc_step, unknown, with_asker
from assistant.guard.bodies import read_body, replay
from assistant.guard.clients import RateLimiter, TrustedProxies
from assistant.guard.replies import (
    bearer,
    cors_headers,
    header,
    html_page,
    peer_of,
    redirect,
    refuse,
    target_of,
    wants_page,
    with_cors,
    with_frame_policy,
)
from assistant.people.identity import ASKER, IdentityHeaders
from assistant.people.signin import cookie_of, form_fields, local_target, session_value, set_cookie, signin_page

if TYPE_CHECKING:
    from assistant.people.oidc import OidcSignIn


MAX_BODY_BYTES = 64 * 1024
_ADMIN = ADMIN_HEADER.lower().encode()
MULTIPART_SLACK = 64 * 1024  # an upload's multipart framing beside its file


@dataclass(frozen=True)
class GuardSettings:
    allowed_origins: tuple[str, ...] = ()
    api_token: str | None = None
    admin_token: str | None = None
    rate_limit: int = 30  # questions and votes per client per minute; 0 turns the limit off
    root_path: str = ""
    max_body_bytes: int = MAX_BODY_BYTES
    max_upload_bytes: int = 50 * 2**20
    trusted_proxies: tuple[str, ...] = ()  # addresses or networks whose X-Forwarded-* headers count; "*" any
    failed_attempts: int = 10  # wrong tokens per client per minute before 429
    limited_events: frozenset[int] = frozenset()  # Gradio functions that answer or write (rate-limited)
    identity: IdentityHeaders | None = None  # who is asking, as trusted proxies say (--trust-user-header)
    session_secret: str | None = None  # signs the widget's short-lived session tokens (--session-secret)
    oidc: "OidcSignIn | None" = None  # sign-in with an OpenID provider (--oidc-issuer)

    def knows_users(self) -> bool:
        return self.identity is not None or bool(self.session_secret) or self.oidc is not None

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


def own_origin_netloc(scope) -> str | None:
    host = header(scope, b"x-forwarded-host") or header(scope, b"host")
    return host.split(",")[0].strip().lower() if host else None


@dataclass
class Guard:
    """The ASGI middleware applying a ``GuardSettings`` around ``app``."""

    app: Any  # the ASGI app behind the guard
    settings: GuardSettings
    limiter: RateLimiter = field(init=False)
    failures: RateLimiter = field(init=False)
    proxies: TrustedProxies = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.settings.rate_limit)
        self.failures = RateLimiter(self.settings.failed_attempts)
        self.proxies = TrustedProxies(self.settings.trusted_proxies)

    def limit_events(self, events: frozenset[int]) -> None:
        """Count these Gradio functions against the rate limit: the chat
        page's, once it is built (``later.ChatPageLater``)."""
        self.settings = replace(self.settings, limited_events=events)

    def origin_allowed(self, origin: str | None, scope) -> bool:
        if origin is None:
            return True  # not a browser cross-origin request: curl, scripts, same-origin GET
        origin = origin.rstrip("/")
        if self.settings.allows_any_origin() or origin in self.settings.allowed_origins:
            return True
        netloc = origin.split("://", 1)[-1].lower()
        return netloc == own_origin_netloc(scope)

    def frame_ancestors(self) -> str:
        if self.settings.allows_any_origin():
            return "frame-ancestors *"
        return " ".join(["frame-ancestors 'self'", *self.settings.allowed_origins])

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":  # nothing askdoc serves speaks it
            return await send({"type": "websocket.close", "code": 1008})
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        scope = self._with_client(with_asker(self.settings, self.proxies, self._with_prefix(scope)))
        path = scope["path"][len(self.settings.root_path):] or "/"
        method = scope["method"]
        origin = header(scope, b"origin")
        send = with_frame_policy(send, self.frame_ancestors().encode())
        if method == "OPTIONS":
            if not is_routed(path):
                return await refuse(send, 404, "not found", None)
            # Preflights always pass, so the real request can be refused with
            # a reason the asking page can read.
            headers = [(b"content-length", b"0"), *cors_headers(origin)]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            return await send({"type": "http.response.body", "body": b""})
        access = access_of(method, path)
        if access is None:
            return await refuse(send, 404, "not found", None)
        if access is Access.PUBLIC:
            return await self.app(scope, receive, send)
        if not self.origin_allowed(origin, scope):
            return await refuse(
                send, 403, f"origin {origin} is not allowed to use this askdoc server "
                           "(the administrator can add it with --allowed-origins)", origin)
        if access is Access.SIGNIN:
            if self.settings.oidc is not None and path != "/signin":
                return await oidc_step(self.settings, path, scope, send, own_origin_netloc(scope))
            return await self._signin(scope, receive, send, origin)
        if access is Access.MINT:
            return await mint_session(self.settings, self.failures, self._throttled, scope, receive, send, origin)
        if self.settings.knows_users() and scope.get(ASKER) is None:
            return await unknown(self.settings, scope, send, origin)
        client = peer_of(scope) or "unknown"
        refusal = self._authenticate(scope, client, access)
        if refusal is not None:
            status, detail, extra = refusal
            if status == 401 and wants_page(scope):
                return await html_page(send, 401, signin_page(self.settings.root_path, target_of(scope)))
            return await refuse(send, status, detail, origin, extra)
        if access is Access.ADMIN and method == "POST":
            return await self._upload(scope, receive, send, origin)
        length = header(scope, b"content-length")
        limit = self.settings.max_body_bytes
        too_large = f"the request body is larger than {limit // 1024:,} KB"
        if length is not None and length.isdigit() and int(length) > limit:
            return await refuse(send, 422, too_large, origin)
        body = await read_body(receive, limit)
        if body is None:
            return await refuse(send, 422, too_large, origin)
        if access is Access.ASK or (access is Access.EVENT and self._limited_event(body)):
            wait = self.limiter.check(client)
            if wait:
                seconds = max(1, int(wait + 0.999))
                return await refuse(
                    send, 429, f"too many questions: at most {self.settings.rate_limit} a minute; try again in {seconds} s",
                    origin, [(b"retry-after", str(seconds).encode())])
        await self.app(scope, replay(body, receive), with_cors(send, origin))

    # -- who is asking ---------------------------------------------------

    def _authenticate(self, scope, client: str, access: Access):
        """None when the request may go on, else (status, detail, headers)."""
        # A session the page's server minted with the shared secret stands for the API token.
        token = None if scope.get(SESSION) else self.settings.api_token
        given = bearer(scope)
        cookie = cookie_of(scope.get("headers", ()))
        admin = header(scope, _ADMIN) if access is Access.ADMIN else None
        # A session cookie is an HMAC no one guesses; a stale one (the token
        # changed) just gets the sign-in form, and is not counted as a guess.
        presented = [c for c in (given, admin) if c is not None]
        if presented:
            wait = self.failures.check(client, count=False)
            if wait:
                return self._throttled(wait)
        if token:
            if given is None and cookie is None:
                return 401, "a valid API token is required (Authorization: Bearer …)", [(b"www-authenticate", b"Bearer")]
            good = (given is not None and secrets.compare_digest(given.encode(), token.encode())) or \
                   (cookie is not None and secrets.compare_digest(cookie.encode(), session_value(token).encode()))
            if not good:
                if given is not None:
                    self.failures.check(client)
                return 401, "a valid API token is required (Authorization: Bearer …)", [(b"www-authenticate", b"Bearer")]
        if access is Access.ADMIN:
            if not self.settings.admin_token:
                return 403, "this server's documents are read-only (start it with --admin-token to allow changes)", []
            if admin is None or not secrets.compare_digest(admin.encode(), self.settings.admin_token.encode()):
                if admin is not None:
                    self.failures.check(client)
                return 403, "a valid admin token is required (X-Askdoc-Admin header)", []
        return None

    def _throttled(self, wait: float):
        seconds = max(1, int(wait + 0.999))
        return (429, f"too many wrong tokens from this address; try again in {seconds} s",
                [(b"retry-after", str(seconds).encode())])

    def _limited_event(self, body: bytes) -> bool:
        """Whether a Gradio event calls a function that answers or writes."""
        try:
            fn_index = json.loads(body).get("fn_index")
        except (ValueError, AttributeError):
            return True  # Gradio refuses it anyway; count it
        return fn_index in self.settings.limited_events

    async def _signin(self, scope, receive, send, origin: str | None):
        root = self.settings.root_path
        query = form_fields(scope.get("query_string", b""))
        if scope["method"] == "GET" or not self.settings.api_token:
            if not self.settings.api_token:
                return await redirect(send, local_target(query.get("next"), root))
            return await html_page(send, 200, signin_page(root, local_target(query.get("next"), root)))
        body = await read_body(receive, self.settings.max_body_bytes)
        if body is None:
            return await refuse(send, 422, "the sign-in form is too large", origin)
        fields = form_fields(body)
        target = local_target(fields.get("next"), root)
        client = peer_of(scope) or "unknown"
        wait = self.failures.check(client, count=False)
        if wait:
            status, detail, extra = self._throttled(wait)
            return await html_page(send, status, signin_page(root, target, detail), extra)
        given = fields.get("token", "")
        if not secrets.compare_digest(given.encode(), self.settings.api_token.encode()):
            self.failures.check(client)
            return await html_page(send, 401, signin_page(root, target, "That token is not right."))
        secure = scope.get("scheme") == "https"
        await redirect(send, target, [(b"set-cookie", set_cookie(self.settings.api_token, root, secure))])

    def _with_client(self, scope):
        """The real client and scheme behind a trusted proxy; the forwarding
        headers of anyone else dropped."""
        headers = scope.get("headers", [])
        forwarding = {b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded", b"x-real-ip"}
        peer = peer_of(scope)
        if not self.proxies.trusts(peer):
            if any(key in forwarding for key, _ in headers):
                scope = {**scope, "headers": [(k, v) for k, v in headers if k not in forwarding]}
            return scope
        scope = dict(scope)
        forwarded_for = header(scope, b"x-forwarded-for")
        if forwarded_for:
            scope["client"] = (self.proxies.client(peer, forwarded_for), 0)
        proto = header(scope, b"x-forwarded-proto")
        if proto:
            scope["scheme"] = proto.split(",")[-1].strip().lower()
        return scope

    def _with_prefix(self, scope):
        """ASGI wants ``path`` to include ``root_path``: add the prefix where a
        proxy stripped it, so both kinds of proxy reach the same routes."""
        prefix = self.settings.root_path
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

    # -- bodies ----------------------------------------------------------

    async def _upload(self, scope, receive, send, origin: str | None):
        """An upload, counted as it arrives: past the limit the app is told
        the client left (it stops reading), and the client gets a 413."""
        limit = self.settings.max_upload_bytes + MULTIPART_SLACK
        too_large = f"the upload is larger than {self.settings.max_upload_bytes // 2**20} MB"
        length = header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await refuse(send, 413, too_large, origin)
        seen, overflow, started = 0, False, False

        async def counted():
            nonlocal seen, overflow
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    overflow = True
                    return {"type": "http.disconnect"}
            return message

        async def held(message):
            nonlocal started
            if overflow:
                return  # the app's own reply to a cut body is replaced by the 413 below
            started = True
            await send(message)

        try:
            await self.app(scope, counted, with_cors(held, origin))
        except Exception:
            if not overflow:
                raise
        if overflow and not started:
            await refuse(send, 413, too_large, origin)
