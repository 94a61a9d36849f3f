"""Shared fixtures: one real model and one real index per session (as in
sentence-transformers' own tests), a fake embedder for pure-logic tests, and
helpers that write documents under ``tmp_path``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from index.embed import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
XQUAD = SHARED / "eval" / "xquad-en" / "xquad.en.json"
DEFAULT_DOCS = ROOT / "docs"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    from index.embed import load_embedder

    embedder = load_embedder()
    embedder.dimension  # load now, so the first test does not pay for it
    return embedder


@pytest.fixture
def fake_embedder():
    return HashEmbedder()


@pytest.fixture(scope="session")
def default_index(tmp_path_factory, real_embedder) -> Path:
    """The default corpus (docs/) indexed with the real model and FAISS."""
    from index.build import build_index

    root = tmp_path_factory.mktemp("default") / "index"
    build_index(DEFAULT_DOCS, root, real_embedder)
    return root


@pytest.fixture(scope="session")
def default_assistant(default_index, real_embedder):
    from assistant.engine import Assistant

    return Assistant.load(default_index, embedder=real_embedder)


@pytest.fixture(scope="session")
def xquad(tmp_path_factory, real_embedder):
    """XQuAD: 48 articles as 48 documents, indexed with the real model; and its questions."""
    if not XQUAD.exists():
        pytest.skip(f"XQuAD not found at {XQUAD}")
    from assistant.engine import Assistant
    from assistant.evaluate import xquad_questions
    from index.build import build_index

    base = tmp_path_factory.mktemp("xquad")
    cases = xquad_questions(XQUAD, base / "docs")
    build_index(base / "docs", base / "index", real_embedder)
    return Assistant.load(base / "index", embedder=real_embedder), cases


@pytest.fixture
def write_docs(tmp_path):
    """Write {relative path: str | bytes} into a fresh docs folder; return it."""

    def write(files: dict[str, str | bytes]) -> Path:
        docs = tmp_path / "docs"
        docs.mkdir(exist_ok=True)
        for name, content in files.items():
            path = docs / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return docs

    return write


@pytest.fixture
def default_docs_copy(tmp_path) -> Path:
    docs = tmp_path / "docs"
    shutil.copytree(DEFAULT_DOCS, docs)
    return docs


def make_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of text per page (Helvetica)."""
    objects: list[bytes] = []
    count = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    font_ref = 3 + 2 * count
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_ref} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


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
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"askdoc serve did not answer in {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except Exception:
            self.process.kill()
        self._log_file.close()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium through playwright (no downloaded browser)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: make test installs it (Debian package chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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


RESULTS = Path(__file__).resolve().parent / "benchmarks" / "results"


def write_result(path: Path, data) -> None:
    """Save a benchmark's result as JSON (under ``RESULTS`` by convention) and say where."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    print(f"wrote {path}")


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), for benchmarks.

    Not ``getrusage``: Linux carries ``ru_maxrss`` across exec, so a child
    started by a parent holding the model would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e3
    return 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of ``values`` by nearest rank (0.0 for none), for benchmark tables."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0
