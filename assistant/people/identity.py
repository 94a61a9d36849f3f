"""Who is asking, as the intranet's reverse proxy says: ``--trust-user-header``
and ``--trust-groups-header`` name the headers a proxy that signed the person
in sets (``X-Remote-User: dana``, ``X-Remote-Groups: hr, managers``).

The guard (``guard.Guard``) is the only reader of those headers. It believes
them only from ``--forwarded-allow-ips`` (the proxies' own addresses) and
removes them from every other request, then puts an ``Asker`` into the
request's ASGI scope under ``ASKER``: FastAPI routes and Gradio handlers read
it from there (``asker_of``), never from a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

ASKER = "askdoc.asker"  # the ASGI scope key the guard sets


@dataclass(frozen=True)
class Asker:
    user: str
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IdentityHeaders:
    """The header names a trusted proxy fills in (lower case, as ASGI gives them)."""

    user: bytes
    groups: bytes | None = None

    @classmethod
    def of(cls, user: str | None, groups: str | None) -> "IdentityHeaders | None":
        """None when the server takes no identity from a proxy.

        >>> IdentityHeaders.of("X-Remote-User", "X-Remote-Groups")
        IdentityHeaders(user=b'x-remote-user', groups=b'x-remote-groups')
        >>> IdentityHeaders.of(None, None) is None
        True
        """
        if not user:
            return None
        return cls(user.strip().lower().encode("latin-1"), groups.strip().lower().encode("latin-1") if groups else None)

    def names(self) -> frozenset[bytes]:
        return frozenset(n for n in (self.user, self.groups) if n)

    def asker(self, headers) -> Asker | None:
        """The person a proxy's headers name (None: no one signed in).

        >>> dana = IdentityHeaders.of("X-User", "X-Groups").asker([(b"x-user", b"dana"), (b"x-groups", b"hr, managers,")])
        >>> dana.user, sorted(dana.groups)
        ('dana', ['hr', 'managers'])
        >>> IdentityHeaders.of("X-User", None).asker([(b"x-user", b"  ")]) is None
        True
        """
        user = groups = None
        for key, value in headers:
            if key == self.user:
                user = value.decode("utf-8", "replace").strip()
            elif self.groups is not None and key == self.groups:
                groups = value.decode("utf-8", "replace")
        if not user:
            return None
        return Asker(user, frozenset(g.strip() for g in (groups or "").split(",") if g.strip()))


def asker_of(scope: Mapping[str, Any] | None) -> Asker | None:
    """The ``Asker`` the guard found for a request (None: the server knows no users)."""
    return scope.get(ASKER) if scope is not None else None


def asker_in(request) -> Asker | None:
    """The asker the guard found for a Gradio event (its ``gr.Request``)."""
    return asker_of(getattr(getattr(request, "request", None), "scope", None))
