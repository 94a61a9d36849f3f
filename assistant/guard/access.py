"""Which routes the server answers, and what each needs: the one table the
guard (``guard.Guard``) reads before any request reaches FastAPI or Gradio.

A path that is not in the table is not served (404), whatever the app
behind the guard would do with it: Gradio's file, upload, proxy, direct-call
and monitoring routes are never reachable, and a route added to the app
without a line here is unreachable too (``tests/e2e/test_security.py`` walks the
app's routes and fails on one the table does not name).

Kinds of access, from least to most guarded:

- ``PUBLIC``: askdoc's and Gradio's static files (scripts, styles, icons,
  the API's documentation); nothing from the documents.
- ``SIGNIN``: the page that takes the API token and sets the session cookie.
- ``MINT``: the page's server asking for a person's short-lived session
  token, with the session secret (``sessions.py``); nothing from the documents.
- ``DATA``: answers, returns document text or bytes, lists documents: the
  caller's origin must be allowed, the API token given (when the server has
  one) and the body small.
- ``ASK``: ``DATA``, and each request counts against the per-client rate limit.
- ``EVENT``: a Gradio event (``/gradio_api/queue/join``, or ``run/predict``
  for one outside the queue): ``DATA``, and
  ``ASK`` when its function answers or writes (the guard reads which from the
  body).
- ``ADMIN``: writes the documents folder, or reads the audit trail's
  insights: ``DATA``, and the admin token, checked before the body is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# The header an administrator's token comes in (uploads, deletes, insights).
ADMIN_HEADER = "X-Askdoc-Admin"


class Access(str, Enum):
    PUBLIC = "public"
    SIGNIN = "signin"
    MINT = "mint"
    DATA = "data"
    ASK = "ask"
    EVENT = "event"
    ADMIN = "admin"


READ = frozenset({"GET", "HEAD"})
POST = frozenset({"POST"})


@dataclass(frozen=True)
class Route:
    path: str  # relative to the root path; a trailing "/" with prefix=True matches everything below
    methods: frozenset[str]
    access: Access
    prefix: bool = False

    def matches(self, method: str, path: str) -> bool:
        if method not in self.methods:
            return False
        return path.startswith(self.path) if self.prefix else path == self.path


ROUTES: tuple[Route, ...] = (
    # askdoc's static files
    Route("/embed.js", READ, Access.PUBLIC),
    Route("/embed-example", READ, Access.PUBLIC),  # a host page with the widget: the widget asks with its token
    Route("/pdf-assets/", READ, Access.PUBLIC, prefix=True),
    Route("/api/docs", READ, Access.PUBLIC),
    Route("/api/docs/static/", READ, Access.PUBLIC, prefix=True),
    Route("/api/openapi.json", READ, Access.PUBLIC),
    # Gradio's front end: its bundle, styles and icons
    Route("/assets/", READ, Access.PUBLIC, prefix=True),
    Route("/static/", READ, Access.PUBLIC, prefix=True),
    Route("/svelte/", READ, Access.PUBLIC, prefix=True),
    Route("/theme.css", READ, Access.PUBLIC),
    Route("/gradio_api/theme.css", READ, Access.PUBLIC),
    Route("/favicon.ico", READ, Access.PUBLIC),
    Route("/robots.txt", READ, Access.PUBLIC),
    Route("/signin", READ | POST, Access.SIGNIN),
    Route("/signin/oidc", READ, Access.SIGNIN),  # OpenID Connect: to the provider, and back
    Route("/signin/callback", READ, Access.SIGNIN),
    Route("/api/session", POST, Access.MINT),
    # The chat page and what it calls. Its HTML and /config hold the document
    # names (the scope picker, the examples).
    Route("/", READ, Access.DATA),
    Route("/config", READ, Access.DATA),
    Route("/gradio_api/queue/join", POST, Access.EVENT),
    Route("/gradio_api/run/predict", POST, Access.EVENT),  # events outside the queue (filling in an example)
    Route("/gradio_api/queue/data", READ, Access.DATA),
    Route("/gradio_api/heartbeat/", READ, Access.DATA, prefix=True),
    Route("/gradio_api/cancel", POST, Access.DATA),
    Route("/gradio_api/startup-events", READ, Access.DATA),
    # Source views
    Route("/source", READ, Access.DATA),
    Route("/document", READ, Access.DATA),
    # The JSON API and the OpenAI-compatible one
    Route("/api/ask", POST, Access.ASK),
    Route("/api/ask/stream", POST, Access.ASK),
    Route("/api/healthz", READ, Access.DATA),
    Route("/api/documents", READ, Access.DATA),
    Route("/api/documents", POST, Access.ADMIN),
    Route("/api/documents/", frozenset({"DELETE"}), Access.ADMIN, prefix=True),
    Route("/api/insights", READ, Access.ADMIN),  # what was asked and not found: the audit trail, summed up
    Route("/v1/models", READ, Access.DATA),
    Route("/v1/chat/completions", POST, Access.ASK),
)


def access_of(method: str, path: str, routes: tuple[Route, ...] = ROUTES) -> Access | None:
    """What ``method path`` needs, or None when the server does not answer it.

    >>> access_of("GET", "/embed.js"), access_of("POST", "/api/ask"), access_of("DELETE", "/api/documents/a.txt")
    (<Access.PUBLIC: 'public'>, <Access.ASK: 'ask'>, <Access.ADMIN: 'admin'>)
    >>> access_of("GET", "/gradio_api/file=/etc/passwd") is None, access_of("POST", "/gradio_api/upload") is None
    (True, True)
    """
    if method == "HEAD":
        method = "GET"
    if ".." in path.split("/"):
        return None
    for route in routes:
        if route.matches(method, path):
            return route.access
    return None


def is_routed(path: str, routes: tuple[Route, ...] = ROUTES) -> bool:
    """Whether any method of ``path`` is served (a CORS preflight's question).

    >>> is_routed("/api/ask"), is_routed("/gradio_api/upload")
    (True, False)
    """
    return any(access_of(method, path, routes) is not None for method in ("GET", "POST", "DELETE"))
