"""Sign-in with OpenID Connect, for deployments without a signing-in proxy:
the authorization-code flow with PKCE (authlib's OAuth 2 client), the ID
token checked against the provider's keys (joserfc): issuer, audience,
expiry and the nonce sent.

1. A browser without a session asking for a page is sent to
   ``/signin/oidc?next=PAGE``, which sends it to the provider with a fresh
   state, nonce and PKCE verifier; those travel in a short-lived signed
   cookie (``FLOW_COOKIE``), never in server memory.
2. The provider sends it back to ``/signin/callback?code&state``: the code is
   exchanged for tokens with the verifier, the ID token checked, the groups
   read from ``--oidc-groups-claim`` (the ID token's, else the userinfo's),
   and the person's session set as an HttpOnly, SameSite=Lax cookie (Secure
   over HTTPS) signed with the server's key (``USER_COOKIE``): a session
   token as the widget's (``sessions.mint``), hours long.

The guard (``guard.Guard``) runs both steps and reads the session cookie.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from assistant.errors import SignInError
from assistant.people.sessions import mint, seal, unseal, verify

log = logging.getLogger(__name__)

FLOW_COOKIE = "askdoc_oidc"
USER_COOKIE = "askdoc_user"
FLOW_SECONDS = 600  # time to sign in at the provider
CALLBACK = "/signin/callback"
START = "/signin/oidc"


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str | None = None  # from ASKDOC_OIDC_CLIENT_SECRET; none: a public client (PKCE only)
    groups_claim: str = "groups"
    scope: str = "openid profile email"
    session_hours: float = 8.0


@dataclass
class OidcSignIn:
    settings: OidcSettings
    key: str = field(default_factory=lambda: secrets.token_urlsafe(32))  # signs the cookies; new at each start
    _provider: dict[str, Any] | None = None
    _keys: Any = None

    async def provider(self) -> dict[str, Any]:
        """The provider's discovery document (read once)."""
        if self._provider is None:
            import httpx

            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(url)
                response.raise_for_status()
                self._provider = response.json()
        return self._provider

    async def keys(self):
        if self._keys is None:
            import httpx
            from joserfc.jwk import KeySet

            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get((await self.provider())["jwks_uri"])
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
        return self._keys

    def _client(self, redirect_uri: str):
        from authlib.integrations.httpx_client import AsyncOAuth2Client

        return AsyncOAuth2Client(
            self.settings.client_id, self.settings.client_secret, scope=self.settings.scope,
            redirect_uri=redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.settings.client_secret else "none", timeout=10)

    async def start(self, redirect_uri: str, next_path: str) -> tuple[str, str]:
        """Where to send the browser, and the signed flow cookie's value."""
        from authlib.common.security import generate_token

        provider = await self.provider()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(provider["authorization_endpoint"], state=state, nonce=nonce,
                                                     code_verifier=verifier)
        flow = seal(self.key, {"state": state, "nonce": nonce, "verifier": verifier, "next": next_path}, FLOW_SECONDS)
        return url, flow

    async def finish(self, redirect_uri: str, query: dict[str, str], flow_cookie: str | None) -> tuple[str, str]:
        """The person's session cookie value and the page to go back to; a
        ``SignInError`` when the answer is not one this server asked for."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        flow = unseal(self.key, flow_cookie or "")
        if flow is None:
            raise SignInError("the sign-in took too long or was started elsewhere: try again")
        if "error" in query:
            raise SignInError(f"the sign-in provider said: {query.get('error_description') or query['error']}")
        if not query.get("code") or not secrets.compare_digest(query.get("state", ""), flow["state"]):
            raise SignInError("this sign-in answer does not belong to this browser's sign-in: try again")
        provider = await self.provider()
        async with self._client(redirect_uri) as client:
            try:
                token = await client.fetch_token(provider["token_endpoint"], code=query["code"],
                                                 code_verifier=flow["verifier"], grant_type="authorization_code")
            except Exception as exc:  # authlib raises its OAuth errors and httpx's
                log.warning("the OpenID provider refused the code: %s", exc)
                raise SignInError("the sign-in provider refused this sign-in: try again") from None
            try:
                decoded = jwt.decode(token["id_token"], await self.keys())
                jwt.JWTClaimsRegistry(
                    iss={"essential": True, "value": provider.get("issuer", self.settings.issuer)},
                    aud={"essential": True, "value": self.settings.client_id},
                    nonce={"essential": True, "value": flow["nonce"]},
                    sub={"essential": True}, exp={"essential": True},
                ).validate(decoded.claims)
            except (JoseError, KeyError, ValueError) as exc:
                log.warning("an ID token failed its checks: %s", exc)
                raise SignInError("the sign-in provider's answer failed its checks") from None
            claims = dict(decoded.claims)
            if self.settings.groups_claim not in claims and provider.get("userinfo_endpoint"):
                response = await client.get(provider["userinfo_endpoint"])
                if response.status_code == 200:
                    claims = {**response.json(), **claims}
        user = str(claims.get("preferred_username") or claims.get("email") or claims["sub"])
        groups = claims.get(self.settings.groups_claim) or []
        if isinstance(groups, str):
            groups = groups.split(",")
        minutes = self.settings.session_hours * 60
        return mint(self.key, user, [str(g) for g in groups], minutes, longest=minutes), flow.get("next") or "/"

    def asker(self, cookie: str | None) -> tuple[str, tuple[str, ...]] | None:
        """(user, groups) of a session cookie this server set and that has not expired."""
        return verify(self.key, cookie or "")

    def start_url(self, root: str, target: str) -> str:
        return f"{root}{START}?{urlencode({'next': target})}"


def cookie(name: str, value: str, root: str, secure: bool, seconds: float) -> bytes:
    """A Set-Cookie header: HttpOnly, SameSite=Lax (the provider's redirect back is a top-level navigation)."""
    parts = [f"{name}={value}", f"Path={root or '/'}", "HttpOnly", "SameSite=Lax", f"Max-Age={int(seconds)}"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode("latin-1")
