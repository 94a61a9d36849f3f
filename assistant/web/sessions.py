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


def mint(secret: str, user: str, groups: list[str] | tuple[str, ...], minutes: float, now: float | None = None) -> str:
    """A token for ``user`` in ``groups`` that lasts ``minutes`` (at most ``MAX_MINUTES``)."""
    if not user or not user.strip():
        raise ValueError("a session names a user")
    if not 0 < minutes <= MAX_MINUTES:
        raise ValueError(f"a session lasts more than 0 and at most {MAX_MINUTES} minutes")
    expires = int((time.time() if now is None else now) + minutes * 60)
    body = {"u": user.strip(), "g": sorted({g.strip() for g in groups if g.strip()}), "exp": expires}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{PREFIX}{payload}.{_signature(secret, payload)}"


def verify(secret: str, token: str, now: float | None = None) -> tuple[str, tuple[str, ...]] | None:
    """(user, groups) of a token signed with ``secret`` and not expired; None otherwise."""
    if not token.startswith(PREFIX):
        return None
    payload, _, signature = token[len(PREFIX):].partition(".")
    if not payload or not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        return None
    try:
        body = json.loads(_unb64(payload))
        user, groups, expires = str(body["u"]), tuple(str(g) for g in body["g"]), float(body["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    if (time.time() if now is None else now) >= expires or not user:
        return None
    return user, groups


def is_session_token(token: str | None) -> bool:
    return bool(token) and token.startswith(PREFIX)  # type: ignore[union-attr]
