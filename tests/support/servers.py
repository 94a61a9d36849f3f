"""``askdoc serve`` in a subprocess and headless Chromium pages that watch
for what an offline, script-safe app must never do."""

from __future__ import annotations

import os
from pathlib import Path

from .data import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``askdoc serve`` in a subprocess on a free port, stopped at teardown."""

    def __init__(self, docs: Path, index: Path, *extra: str, env: dict | None = None, port: int | None = None) -> None:
        import subprocess
        import sys

        self.args = extra
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = index.parent / f"server-{self.port}.log"
        self._log_file = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--docs", str(docs), "--index", str(index),
             "--port", str(self.port), *extra],
            stdout=self._log_file, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=ROOT,
        )

    def wait(self, path: str = "/", timeout: float = 120) -> "Server":
        import time
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"askdoc serve exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as response:
                    if response.status == 200 and self._page_ready():
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"askdoc serve did not answer in {timeout}s:\n{self.log.read_text()}")

    def _page_ready(self) -> bool:
        """Whether the chat page is built (the API answers before it is, assistant/app/later.py);
        its stylesheet is public, so this asks without the server's tokens."""
        import urllib.request

        if "--no-ui" in self.args:
            return True
        prefix = self.args[self.args.index("--root-path") + 1].rstrip("/") if "--root-path" in self.args else ""
        try:
            with urllib.request.urlopen(f"{self.url}{prefix}/theme.css", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except Exception:
            self.process.kill()
        self._log_file.close()


class PageWatch:
    """A page that records requests to other hosts, console errors and dialogs."""

    def __init__(self, browser, origin: str, **context_args) -> None:
        from urllib.parse import urlparse

        self.context = browser.new_context(**{"viewport": {"width": 1400, "height": 1000}, **context_args})
        self.page = self.context.new_page()
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        allowed = {urlparse(origin).netloc}
        self.allowed = allowed

        def on_request(request):
            parsed = urlparse(request.url)
            if parsed.scheme in ("http", "https", "ws", "wss") and parsed.netloc not in self.allowed:
                self.foreign.append(request.url)

        def on_dialog(dialog):
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        self.page.on("request", on_request)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", on_dialog)
        self.page.context.on("page", lambda p: p.on("dialog", on_dialog))

    def close(self) -> None:
        self.context.close()


def ask_widget(page, question: str) -> None:
    """Type ``question`` into the askdoc widget on ``page`` and send it."""
    box = page.locator("#askdoc-widget textarea")
    box.fill(question)
    box.press("Enter")


def ui_round_trip(page, question: str) -> float:
    """Start a new conversation in the web UI, ask, and return the seconds
    from pressing Enter to the answer's sources (or "no sources") showing."""
    import time

    page.locator("#askdoc-new").click()
    page.wait_for_function("document.querySelector('#askdoc-sources').innerText.includes('appear here')", timeout=30_000)
    box = page.locator("#askdoc-question textarea")
    box.fill(question)
    began = time.perf_counter()
    box.press("Enter")
    page.wait_for_function("!document.querySelector('#askdoc-sources').innerText.includes('appear here')", timeout=60_000)
    return time.perf_counter() - began


def sign_in(page, url: str, token: str) -> None:
    """Open the chat page of a server with an API token and sign in through
    its token form, as a person would."""
    page.goto(url + "/")
    page.locator("#askdoc-token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#askdoc-question textarea").wait_for()


def route_table(app) -> list[tuple[str, str, str]]:
    """Every (method, path, module of its handler) the app behind the guard
    serves: FastAPI's routes, included routers, mounted static folders, and
    the mounted Gradio app's routes."""
    found: list[tuple[str, str, str]] = []

    def walk(routes, prefix: str = "") -> None:
        for route in routes:
            kind = type(route).__name__
            if kind == "_IncludedRouter":  # FastAPI's lazily included routers
                walk(route.effective_candidates(), prefix)
            elif kind == "Mount":
                if route.routes:
                    walk(route.routes, prefix + route.path)
                else:  # a static folder
                    found.append(("GET", prefix + route.path + "/{path}", type(route.app).__module__))
            else:
                original = getattr(route, "original_route", route)
                module = getattr(getattr(route, "endpoint", None), "__module__", "") or ""
                for method in sorted(getattr(original, "methods", None) or {"GET"}):
                    found.append((method, prefix + route.path, module))

    walk(app.routes)
    return found


class GradioSession:
    """The chat page's protocol, spoken directly: what an attacker's script
    sends to ``/gradio_api/queue/join`` and reads back from ``queue/data``."""

    def __init__(self, client, fns: dict[str, int]) -> None:
        import secrets

        self.client = client
        self.fns = fns
        self.session_hash = secrets.token_hex(6)

    @staticmethod
    def functions(config: dict) -> dict[str, int]:
        """The page's functions by name (from ``/config``)."""
        return {dep.get("api_name") or f"#{dep['id']}": dep["id"] for dep in config["dependencies"]}

    def join(self, name: str, data: list, **extra):
        body = {"data": data, "fn_index": self.fns[name], "session_hash": self.session_hash, "event_data": None,
                "trigger_id": None, **extra}
        return self.client.post("/gradio_api/queue/join", json=body)

    def call(self, name: str, data: list, timeout: float = 60.0) -> dict:
        """Join the queue and read the events until this call completes; the
        last message (``process_completed``: ``success`` and ``output``)."""
        import json

        joined = self.join(name, data)
        joined.raise_for_status()
        with self.client.stream("GET", "/gradio_api/queue/data", params={"session_hash": self.session_hash},
                                timeout=timeout) as events:
            for line in events.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        return message
        raise AssertionError(f"{name} never completed")
