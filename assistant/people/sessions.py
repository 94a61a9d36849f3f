"""Short-lived session tokens for the widget on an intranet page.

The host page's own backend knows who is signed in. It asks askdoc for a
token with the secret both share (``--session-secret``), and puts the token
in the page (the widget's ``data-token``); the widget sends it as
``Authorization: Bearer``. A token names one person and their groups and
lasts minutes, so no long-lived secret ever appears in a page.

    >>> token = mint("s3cret", "dana", ["hr"], minutes=10, now=1_000)
    >>> verify("s3cret", token, now=1_100)
    ('dana', ('hr',))
    >>> verify("s3cret", token, now=1_000 + 601) is None, verify("other", token, now=1_100) is None
    (True, True)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

PREFIX = "askdoc1."
MAX_MINUTES = 60


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest())


def seal(secret: str, body: dict, seconds: float, now: float | None = None) -> str:
    """``body`` signed with ``secret``, valid for ``seconds`` (``unseal`` reads it back).

    >>> unseal("k", seal("k", {"next": "/"}, 60, now=0), now=59)
    {'next': '/'}
    """
    payload = _b64(json.dumps({**body, "exp": int((time.time() if now is None else now) + seconds)},
                              separators=(",", ":")).encode())
    return f"{PREFIX}{payload}.{_signature(secret, payload)}"


def unseal(secret: str, token: str, now: float | None = None) -> dict | None:
    """The body of a token ``seal`` signed with ``secret``, unless altered or expired."""
    if not token.startswith(PREFIX):
        return None
    payload, _, signature = token[len(PREFIX):].partition(".")
    if not payload or not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        return None
    try:
        body = json.loads(_unb64(payload))
        expires = float(body.pop("exp"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return body if (time.time() if now is None else now) < expires else None


def mint(secret: str, user: str, groups: list[str] | tuple[str, ...], minutes: float, now: float | None = None,
         longest: float = MAX_MINUTES) -> str:
    """A token for ``user`` in ``groups`` that lasts ``minutes`` (at most ``longest``)."""
    if not user or not user.strip():
        raise ValueError("a session names a user")
    if not 0 < minutes <= longest:
        raise ValueError(f"a session lasts more than 0 and at most {longest:g} minutes")
    return seal(secret, {"u": user.strip(), "g": sorted({g.strip() for g in groups if g.strip()})}, minutes * 60, now)


def verify(secret: str, token: str, now: float | None = None) -> tuple[str, tuple[str, ...]] | None:
    """(user, groups) of a token signed with ``secret`` and not expired; None otherwise."""
    body = unseal(secret, token, now)
    try:
        user, groups = str(body["u"]), tuple(str(g) for g in body["g"])  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    return (user, groups) if user else None


def is_session_token(token: str | None) -> bool:
    return bool(token) and token.startswith(PREFIX)  # type: ignore[union-attr]
