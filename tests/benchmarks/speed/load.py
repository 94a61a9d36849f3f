"""Bounded load on loopback: N concurrent API clients for S seconds while one
person chats in the web UI.

    .venv/bin/python -m tests.benchmarks.speed.load [--clients 50] [--seconds 60]

Starts ``askdoc serve --rate-limit 0`` (every client is 127.0.0.1) on a free
port with the default corpus; only 127.0.0.1 is ever contacted, and every
loop stops by itself. Prints p50/p95 for the API and for the UI user, errors,
and the server's memory; writes tests/benchmarks/results/load.json.
``tests/e2e/test_load.py`` runs the same and asserts on it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


from tests.support import RESULTS, percentile, write_result

QUESTIONS = [
    "What did Singh tell Dong Jun?", "When did Singh meet the Chinese defence minister?",
    "Who is Malaysia's defence minister?", "Which Lao minister did Singh meet?",
    "What security issues does the summit aim to address?", "What does LAC stand for?",
    "What is the recipe for chocolate cake?", "Where did Jaishankar and Wang Yi meet?",
]


@dataclass
class LoadResult:
    clients: int
    seconds: float
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    api_p50_ms: float = 0.0
    api_p95_ms: float = 0.0
    throughput_per_s: float = 0.0
    ui_questions: int = 0
    ui_errors: int = 0
    ui_p50_ms: float = 0.0
    ui_max_ms: float = 0.0
    rss_start_mb: float = 0.0
    rss_warm_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_max_mb: float = 0.0


async def _api_clients(url: str, clients: int, seconds: float, latencies: list, errors: list) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        async def client(n: int) -> None:
            i = n
            while time.monotonic() < deadline:
                question = QUESTIONS[i % len(QUESTIONS)]
                i += 1
                began = time.perf_counter()
                try:
                    response = await http.post("/api/ask", json={"question": question})
                    if response.status_code != 200 or "answer" not in response.json():
                        errors.append(f"{response.status_code}: {response.text[:200]}")
                    else:
                        latencies.append(time.perf_counter() - began)
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    errors.append(f"{type(exc).__name__}: {exc}")

        await asyncio.gather(*(client(n) for n in range(clients)))


def _ui_user(browser, url: str, stop: threading.Event, times: list, errors: list) -> None:
    """One person chatting in the web UI until ``stop``: ask, wait for the
    sources, read for two seconds, start a new conversation, ask again."""
    from tests.support import ui_round_trip

    page = browser.new_page()
    page.goto(url + "/")
    i = 0
    while not stop.is_set():
        question = QUESTIONS[i % len(QUESTIONS)]
        i += 1
        try:
            times.append(ui_round_trip(page, question))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}")
        page.wait_for_timeout(2000)  # a person reads before asking again
    page.close()


def run_load(url: str, server_pid: int, clients: int = 50, seconds: float = 60.0, browser=None) -> LoadResult:
    """API clients in a background thread; the UI user (when ``browser`` is
    given) in this thread, since playwright's sync API belongs to its caller."""
    import psutil

    server = psutil.Process(server_pid)
    rss = lambda: server.memory_info().rss / 1e6  # noqa: E731
    result = LoadResult(clients=clients, seconds=seconds, rss_start_mb=rss())
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            samples.append(rss())

    latencies: list[float] = []
    errors: list[str] = []
    elapsed = 0.0

    def api_load() -> None:
        nonlocal elapsed
        began = time.monotonic()
        asyncio.run(_api_clients(url, clients, seconds, latencies, errors))
        elapsed = time.monotonic() - began
        stop.set()

    sampler = threading.Thread(target=sample, daemon=True)
    api = threading.Thread(target=api_load)
    sampler.start()
    api.start()
    ui_times: list[float] = []
    ui_errors: list[str] = []
    if browser is not None:
        _ui_user(browser, url, stop, ui_times, ui_errors)
    api.join()
    sampler.join(5)
    result.requests = len(latencies) + len(errors)
    result.errors = len(errors)
    result.error_samples = (errors + ui_errors)[:5]
    result.api_p50_ms = 1000 * statistics.median(latencies) if latencies else 0.0
    result.api_p95_ms = 1000 * percentile(latencies, 0.95)
    result.throughput_per_s = len(latencies) / elapsed if elapsed else 0.0
    result.ui_questions = len(ui_times) + len(ui_errors)
    result.ui_errors = len(ui_errors)
    result.ui_p50_ms = 1000 * statistics.median(ui_times) if ui_times else 0.0
    result.ui_max_ms = 1000 * max(ui_times) if ui_times else 0.0
    # Threads, pools and allocator arenas fill up in the first seconds; after
    # that the footprint must stay flat.
    warm = samples[min(len(samples) - 1, 19)] if samples else result.rss_start_mb
    result.rss_warm_mb = warm
    result.rss_end_mb = samples[-1] if samples else rss()
    result.rss_max_mb = max(samples, default=result.rss_end_mb)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    from tests.support import DEFAULT_DOCS, Server
    from index.build import build_index
    from index.embedding.models import load_embedder

    with tempfile.TemporaryDirectory() as tmp:
        build_index(DEFAULT_DOCS, Path(tmp) / "index", load_embedder())
        server = Server(DEFAULT_DOCS, Path(tmp) / "index", "--rate-limit", "0").wait()
        try:
            from playwright.sync_api import sync_playwright

            from tests.support import CHROMIUM, CHROMIUM_ARGS

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                result = run_load(server.url, server.process.pid, args.clients, args.seconds, browser)
                browser.close()
        finally:
            server.stop()
    print(f"| {args.clients} API clients for {args.seconds:.0f} s + 1 UI user | value |\n|---|---|")
    print(f"| API requests (errors) | {result.requests} ({result.errors}) |")
    print(f"| API latency p50 / p95 | {result.api_p50_ms:.0f} / {result.api_p95_ms:.0f} ms |")
    print(f"| API throughput | {result.throughput_per_s:.1f} answers/s |")
    print(f"| UI questions (errors), p50 / max | {result.ui_questions} ({result.ui_errors}), "
          f"{result.ui_p50_ms:.0f} / {result.ui_max_ms:.0f} ms |")
    print(f"| server RSS at start / after 20 s / at the end / max | {result.rss_start_mb:.0f} / {result.rss_warm_mb:.0f} / "
          f"{result.rss_end_mb:.0f} / {result.rss_max_mb:.0f} MB |")
    write_result(RESULTS / "load.json", asdict(result))


if __name__ == "__main__":
    main()
