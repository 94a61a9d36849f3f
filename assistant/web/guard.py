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
5. Wrong tokens are throttled: past ``Policy.failed_attempts`` a minute, a
   client that sends any token is answered 429 until the minute is over.
6. HTML pages get ``Content-Security-Policy: frame-ancestors`` with the
   allowed origins, so only allowed sites can frame the app.

Refusals carry CORS headers for the asking origin: the body says only why it
was refused, and a widget on that page can show the reason to its reader.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .access import Access, access_of, is_routed
from .bodies import read_body, replay
from .clients import RateLimiter, TrustedProxies
from .identity import ASKER, Asker, IdentityHeaders
from .oidc import USER_COOKIE
from .sessions import MAX_MINUTES, is_session_token, mint, verify
from .signin import cookie_named, cookie_of, form_fields, local_target, oidc_failed_page, session_value, set_cookie, signin_page

if TYPE_CHECKING:
    from .oidc import OidcSignIn

SESSION = "askdoc.session"  # the ASGI scope key set when the asker came from a session token

MAX_BODY_BYTES = 64 * 1024
ADMIN_HEADER = b"x-askdoc-admin"
MULTIPART_SLACK = 64 * 1024  # an upload's multipart framing beside its file


@dataclass(frozen=True)
class Policy:
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

    app: Any  # the ASGI app behind the guard
    policy: Policy
    limiter: RateLimiter = field(init=False)
    failures: RateLimiter = field(init=False)
    proxies: TrustedProxies = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.policy.rate_limit)
        self.failures = RateLimiter(self.policy.failed_attempts)
        self.proxies = TrustedProxies(self.policy.trusted_proxies)

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
        if scope["type"] == "websocket":  # nothing askdoc serves speaks it
            return await send({"type": "websocket.close", "code": 1008})
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        scope = self._with_client(self._with_identity(self._with_prefix(scope)))
        path = scope["path"][len(self.policy.root_path):] or "/"
        method = scope["method"]
        origin = _header(scope, b"origin")
        send = self._with_frame_policy(send)
        if method == "OPTIONS":
            if not is_routed(path):
                return await self._refuse(send, 404, "not found", None)
            # Preflights always pass, so the real request can be refused with
            # a reason the asking page can read.
            headers = [(b"content-length", b"0"), *self._cors_headers(origin)]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            return await send({"type": "http.response.body", "body": b""})
        access = access_of(method, path)
        if access is None:
            return await self._refuse(send, 404, "not found", None)
        if access is Access.PUBLIC:
            return await self.app(scope, receive, send)
        if not self.origin_allowed(origin, scope):
            return await self._refuse(
                send, 403, f"origin {origin} is not allowed to use this askdoc server "
                           "(the administrator can add it with --allowed-origins)", origin)
        if access is Access.SIGNIN:
            if self.policy.oidc is not None and path != "/signin":
                return await self._oidc(path, scope, send)
            return await self._signin(scope, receive, send, origin)
        if access is Access.MINT:
            return await self._mint(scope, receive, send, origin)
        if self.policy.knows_users() and scope.get(ASKER) is None:
            if self.policy.oidc is not None and method == "GET" and "text/html" in (_header(scope, b"accept") or ""):
                target = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
                return await self._redirect(send, self.policy.oidc.start_url(self.policy.root_path, target))
            expired = is_session_token(self._bearer(scope))
            return await self._refuse(send, 401, "this session has expired: reload the page" if expired else
                                      "sign in through your intranet first: this server answers only people it "
                                      "knows (its reverse proxy's sign-in, or a session from the page's server)", origin)
        client = scope["client"][0] if scope.get("client") else "unknown"
        refusal = self._authenticate(scope, client, access)
        if refusal is not None:
            status, detail, extra = refusal
            if status == 401 and method == "GET" and "text/html" in (_header(scope, b"accept") or ""):
                target = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
                return await self._html(send, 401, signin_page(self.policy.root_path, target))
            return await self._refuse(send, status, detail, origin, extra)
        if access is Access.ADMIN and method == "POST":
            return await self._upload(scope, receive, send, origin)
        length = _header(scope, b"content-length")
        limit = self.policy.max_body_bytes
        too_large = f"the request body is larger than {limit // 1024:,} KB"
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._refuse(send, 422, too_large, origin)
        body = await read_body(receive, limit)
        if body is None:
            return await self._refuse(send, 422, too_large, origin)
        if access is Access.ASK or (access is Access.EVENT and self._limited_event(body)):
            wait = self.limiter.check(client)
            if wait:
                seconds = max(1, int(wait + 0.999))
                return await self._refuse(
                    send, 429, f"too many questions: at most {self.policy.rate_limit} a minute; try again in {seconds} s",
                    origin, [(b"retry-after", str(seconds).encode())])
        await self.app(scope, replay(body, receive), self._with_cors(send, origin))

    # -- who is asking ---------------------------------------------------

    def _authenticate(self, scope, client: str, access: Access):
        """None when the request may go on, else (status, detail, headers)."""
        # A session the page's server minted with the shared secret stands for the API token.
        token = None if scope.get(SESSION) else self.policy.api_token
        bearer = self._bearer(scope)
        cookie = cookie_of(scope.get("headers", ()))
        admin = _header(scope, ADMIN_HEADER) if access is Access.ADMIN else None
        # A session cookie is an HMAC no one guesses; a stale one (the token
        # changed) just gets the sign-in form, and is not counted as a guess.
        presented = [c for c in (bearer, admin) if c is not None]
        if presented:
            wait = self.failures.check(client, count=False)
            if wait:
                return self._throttled(wait)
        if token:
            if bearer is None and cookie is None:
                return 401, "a valid API token is required (Authorization: Bearer …)", [(b"www-authenticate", b"Bearer")]
            good = (bearer is not None and secrets.compare_digest(bearer.encode(), token.encode())) or \
                   (cookie is not None and secrets.compare_digest(cookie.encode(), session_value(token).encode()))
            if not good:
                if bearer is not None:
                    self.failures.check(client)
                return 401, "a valid API token is required (Authorization: Bearer …)", [(b"www-authenticate", b"Bearer")]
        if access is Access.ADMIN:
            if not self.policy.admin_token:
                return 403, "this server's documents are read-only (start it with --admin-token to allow changes)", []
            if admin is None or not secrets.compare_digest(admin.encode(), self.policy.admin_token.encode()):
                if admin is not None:
                    self.failures.check(client)
                return 403, "a valid admin token is required (X-Askdoc-Admin header)", []
        return None

    def _throttled(self, wait: float):
        seconds = max(1, int(wait + 0.999))
        return (429, f"too many wrong tokens from this address; try again in {seconds} s",
                [(b"retry-after", str(seconds).encode())])

    @staticmethod
    def _bearer(scope) -> str | None:
        given = _header(scope, b"authorization")
        if given is None:
            return None
        scheme, _, token = given.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def _limited_event(self, body: bytes) -> bool:
        """Whether a Gradio event calls a function that answers or writes."""
        try:
            fn_index = json.loads(body).get("fn_index")
        except (ValueError, AttributeError):
            return True  # Gradio refuses it anyway; count it
        return fn_index in self.policy.limited_events

    async def _signin(self, scope, receive, send, origin: str | None):
        root = self.policy.root_path
        query = form_fields(scope.get("query_string", b""))
        if scope["method"] == "GET" or not self.policy.api_token:
            if not self.policy.api_token:
                return await self._redirect(send, local_target(query.get("next"), root))
            return await self._html(send, 200, signin_page(root, local_target(query.get("next"), root)))
        body = await read_body(receive, self.policy.max_body_bytes)
        if body is None:
            return await self._refuse(send, 422, "the sign-in form is too large", origin)
        fields = form_fields(body)
        target = local_target(fields.get("next"), root)
        client = scope["client"][0] if scope.get("client") else "unknown"
        wait = self.failures.check(client, count=False)
        if wait:
            status, detail, extra = self._throttled(wait)
            return await self._html(send, status, signin_page(root, target, detail), extra)
        given = fields.get("token", "")
        if not secrets.compare_digest(given.encode(), self.policy.api_token.encode()):
            self.failures.check(client)
            return await self._html(send, 401, signin_page(root, target, "That token is not right."))
        secure = scope.get("scheme") == "https"
        await self._redirect(send, target, [(b"set-cookie", set_cookie(self.policy.api_token, root, secure))])

    def _with_identity(self, scope):
        """Who is asking (``scope[ASKER]``): as the identity headers of a
        trusted proxy say, or a session token the page's server minted. The
        identity headers are removed from every request, so nothing behind
        the guard can read them instead."""
        if not self.policy.knows_users():
            return scope
        headers = scope.get("headers", [])
        asker = None
        identity = self.policy.identity
        if identity is not None:
            peer = scope["client"][0] if scope.get("client") else ""
            asker = identity.asker(headers) if self.proxies.trusts(peer) else None
            headers = [(k, v) for k, v in headers if k not in identity.names()]
        if asker is None and self.policy.oidc is not None:
            found = self.policy.oidc.asker(cookie_named(headers, USER_COOKIE))
            asker = Asker(found[0], frozenset(found[1])) if found else None
        bearer = self._bearer(scope)
        if asker is None and self.policy.session_secret and is_session_token(bearer):
            found = verify(self.policy.session_secret, bearer or "")
            if found is not None:
                asker = Asker(found[0], frozenset(found[1]))
                return {**scope, "headers": headers, ASKER: asker, SESSION: True}
        return {**scope, "headers": headers, ASKER: asker}

    async def _oidc(self, path: str, scope, send):
        """The two steps of an OpenID Connect sign-in (``oidc.py``)."""
        from .oidc import CALLBACK, FLOW_COOKIE, FLOW_SECONDS, START, SignInError, cookie

        oidc, root = self.policy.oidc, self.policy.root_path
        assert oidc is not None
        secure = scope.get("scheme") == "https"
        redirect_uri = f"{scope.get('scheme', 'http')}://{own_origin_netloc(scope)}{root}{CALLBACK}"
        query = form_fields(scope.get("query_string", b""))
        try:
            if path == START:
                url, flow = await oidc.start(redirect_uri, local_target(query.get("next"), root))
                return await self._redirect(send, url, [(b"set-cookie", cookie(FLOW_COOKIE, flow, root, secure, FLOW_SECONDS))])
            if path == CALLBACK:
                session, target = await oidc.finish(redirect_uri, query, cookie_named(scope.get("headers", []), FLOW_COOKIE))
                return await self._redirect(send, local_target(target, root), [
                    (b"set-cookie", cookie(USER_COOKIE, session, root, secure, oidc.settings.session_hours * 3600)),
                    (b"set-cookie", cookie(FLOW_COOKIE, "", root, secure, 0))])
        except SignInError as exc:
            return await self._html(send, 401, oidc_failed_page(root, str(exc)))
        except Exception:  # the provider cannot be reached, or answers nonsense
            import logging

            logging.getLogger(__name__).exception("OpenID Connect sign-in failed")
            return await self._html(send, 502, oidc_failed_page(root, "the sign-in provider cannot be reached"))
        return await self._refuse(send, 404, "not found", None)

    async def _mint(self, scope, receive, send, origin: str | None):
        """``POST /api/session``: the page's server, with the shared secret,
        gets a token for one person for minutes (``sessions.mint``)."""
        secret = self.policy.session_secret
        client = scope["client"][0] if scope.get("client") else "unknown"
        if not secret:
            return await self._refuse(send, 404, "not found", origin)
        wait = self.failures.check(client, count=False)
        if wait:
            status, detail, extra = self._throttled(wait)
            return await self._refuse(send, status, detail, origin, extra)
        given = self._bearer(scope) or ""
        if not secrets.compare_digest(given.encode(), secret.encode()):
            self.failures.check(client)
            return await self._refuse(send, 401, "the session secret is required (Authorization: Bearer …)", origin,
                                      [(b"www-authenticate", b"Bearer")])
        body = await read_body(receive, self.policy.max_body_bytes)
        try:
            request = json.loads(body or b"{}")
            groups = request.get("groups", [])
            if isinstance(groups, str):
                groups = groups.split(",")
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise ValueError("groups is a list of names")
            minutes = float(request.get("minutes", 10))
            token = mint(secret, str(request.get("user") or ""), groups, minutes)
        except (ValueError, AttributeError, TypeError) as exc:
            return await self._refuse(send, 422, f"a session is {{\"user\": str, \"groups\": [str], \"minutes\": "
                                                 f"1-{MAX_MINUTES}}}: {exc}", origin)
        reply = json.dumps({"token": token, "expires_in": int(minutes * 60)}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(reply)).encode()),
                   (b"cache-control", b"no-store"), *self._cors_headers(origin)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": reply})

    def _with_client(self, scope):
        """The real client and scheme behind a trusted proxy; the forwarding
        headers of anyone else dropped."""
        headers = scope.get("headers", [])
        forwarding = {b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded", b"x-real-ip"}
        peer = scope["client"][0] if scope.get("client") else ""
        if not self.proxies.trusts(peer):
            if any(key in forwarding for key, _ in headers):
                scope = {**scope, "headers": [(k, v) for k, v in headers if k not in forwarding]}
            return scope
        scope = dict(scope)
        forwarded_for = _header(scope, b"x-forwarded-for")
        if forwarded_for:
            scope["client"] = (self.proxies.client(peer, forwarded_for), 0)
        proto = _header(scope, b"x-forwarded-proto")
        if proto:
            scope["scheme"] = proto.split(",")[-1].strip().lower()
        return scope

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

    # -- answers ---------------------------------------------------------

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

    def _with_cors(self, send, origin: str | None):
        cors = self._cors_headers(origin)
        if not cors:
            return send

        async def wrapped(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors]}
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

    @staticmethod
    async def _html(send, status: int, page: bytes, extra=()) -> None:
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode()),
                   (b"cache-control", b"no-store"), *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": page})

    @staticmethod
    async def _redirect(send, target: str, extra=()) -> None:
        headers = [(b"location", target.encode("latin-1", "replace")), (b"content-length", b"0"), *extra]
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    # -- bodies ----------------------------------------------------------

    async def _upload(self, scope, receive, send, origin: str | None):
        """An upload, counted as it arrives: past the limit the app is told
        the client left (it stops reading), and the client gets a 413."""
        limit = self.policy.max_upload_bytes + MULTIPART_SLACK
        too_large = f"the upload is larger than {self.policy.max_upload_bytes // 2**20} MB"
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._refuse(send, 413, too_large, origin)
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
            await self.app(scope, counted, self._with_cors(held, origin))
        except Exception:
            if not overflow:
                raise
        if overflow and not started:
            await self._refuse(send, 413, too_large, origin)
