"""Who is asking, for the guard: the person a request carries (a trusted
proxy's identity headers, an OpenID Connect session cookie, a widget session
token), the two steps of an OpenID Connect sign-in, and the page server's
request for a widget session (``POST /api/session``)."""

from __future__ import annotations

import json
import logging
import secrets

from assistant.guard.bodies import read_body
from assistant.guard.replies import bearer, html_page, json_reply, peer_of, redirect, refuse, target_of, wants_page
from assistant.people.identity import ASKER, Asker
from assistant.people.oidc import USER_COOKIE
from assistant.people.sessions import MAX_MINUTES, is_session_token, mint, verify
from assistant.people.signin import cookie_named, form_fields, local_target, oidc_failed_page

log = logging.getLogger(__name__)

SESSION = "askdoc.session"  # the ASGI scope key set when the asker came from a session token


def with_asker(settings, proxies, scope):
    """``scope`` with who is asking (``scope[ASKER]``, None: no one known):
    as a trusted proxy's identity headers say, an OpenID Connect session
    this server set, or a session token the page's server minted. The
    identity headers are removed from every request, so nothing behind the
    guard can read them instead."""
    if not settings.knows_users():
        return scope
    headers = scope.get("headers", [])
    asker = None
    identity = settings.identity
    if identity is not None:
        peer = peer_of(scope)
        asker = identity.asker(headers) if proxies.trusts(peer) else None
        headers = [(k, v) for k, v in headers if k not in identity.names()]
    if asker is None and settings.oidc is not None:
        found = settings.oidc.asker(cookie_named(headers, USER_COOKIE))
        asker = Asker(found[0], frozenset(found[1])) if found else None
    token = bearer(scope)
    if asker is None and settings.session_secret and is_session_token(token):
        found = verify(settings.session_secret, token or "")
        if found is not None:
            return {**scope, "headers": headers, ASKER: Asker(found[0], frozenset(found[1])), SESSION: True}
    return {**scope, "headers": headers, ASKER: asker}


async def unknown(settings, scope, send, origin: str | None):
    """The answer to a request that carries no one on a server that knows
    its users: a page goes to the OpenID provider when there is one, the
    rest is 401 with why."""
    if settings.oidc is not None and wants_page(scope):
        return await redirect(send, settings.oidc.start_url(settings.root_path, target_of(scope)))
    if is_session_token(bearer(scope)):
        return await refuse(send, 401, "this session has expired: reload the page", origin)
    return await refuse(send, 401, "sign in through your intranet first: this server answers only people it knows "
                                   "(its reverse proxy's sign-in, or a session from the page's server)", origin)


async def oidc_step(settings, path: str, scope, send, own_netloc: str | None):
    """The two steps of an OpenID Connect sign-in (``oidc.py``): to the provider, and back."""
    from assistant.errors import SignInError
    from assistant.people.oidc import CALLBACK, FLOW_COOKIE, FLOW_SECONDS, START, cookie

    oidc, root = settings.oidc, settings.root_path
    secure = scope.get("scheme") == "https"
    redirect_uri = f"{scope.get('scheme', 'http')}://{own_netloc}{root}{CALLBACK}"
    query = form_fields(scope.get("query_string", b""))
    try:
        if path == START:
            url, flow = await oidc.start(redirect_uri, local_target(query.get("next"), root))
            return await redirect(send, url, [(b"set-cookie", cookie(FLOW_COOKIE, flow, root, secure, FLOW_SECONDS))])
        if path == CALLBACK:
            session, target = await oidc.finish(redirect_uri, query, cookie_named(scope.get("headers", []), FLOW_COOKIE))
            return await redirect(send, local_target(target, root), [
                (b"set-cookie", cookie(USER_COOKIE, session, root, secure, oidc.settings.session_hours * 3600)),
                (b"set-cookie", cookie(FLOW_COOKIE, "", root, secure, 0))])
    except SignInError as exc:
        return await html_page(send, 401, oidc_failed_page(root, str(exc)))
    except Exception:  # the provider cannot be reached, or answers nonsense
        log.exception("OpenID Connect sign-in failed")
        return await html_page(send, 502, oidc_failed_page(root, "the sign-in provider cannot be reached"))
    return await refuse(send, 404, "not found", None)


async def mint_session(settings, failures, throttled, scope, receive, send, origin: str | None):
    """``POST /api/session``: the page's server, with the shared secret, gets
    a token for one person for minutes (``sessions.mint``)."""
    secret = settings.session_secret
    client = peer_of(scope) or "unknown"
    if not secret:
        return await refuse(send, 404, "not found", origin)
    wait = failures.check(client, count=False)
    if wait:
        status, detail, extra = throttled(wait)
        return await refuse(send, status, detail, origin, extra)
    if not secrets.compare_digest((bearer(scope) or "").encode(), secret.encode()):
        failures.check(client)
        return await refuse(send, 401, "the session secret is required (Authorization: Bearer …)", origin,
                            [(b"www-authenticate", b"Bearer")])
    body = await read_body(receive, settings.max_body_bytes)
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
        return await refuse(send, 422, f'a session is {{"user": str, "groups": [str], "minutes": 1-{MAX_MINUTES}}}: '
                                       f"{exc}", origin)
    await json_reply(send, {"token": token, "expires_in": int(minutes * 60)}, origin)
