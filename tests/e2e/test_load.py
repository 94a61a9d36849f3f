"""Bounded load on loopback: 50 API clients for 60 s while one person chats
in the web UI (tests/benchmarks/speed/load.py does the work and prints the table)."""

from __future__ import annotations

import pytest

from tests.support import DEFAULT_DOCS, Server

pytestmark = pytest.mark.slow


def test_api_load_and_a_ui_user_do_not_starve_each_other(tmp_path, real_embedder, browser):
    from index.build import build_index
    from tests.benchmarks.speed.load import run_load

    build_index(DEFAULT_DOCS, tmp_path / "index", real_embedder)
    server = Server(DEFAULT_DOCS, tmp_path / "index", "--rate-limit", "0").wait()
    try:
        result = run_load(server.url, server.process.pid, clients=50, seconds=60, browser=browser)
    finally:
        server.stop()
    print(result)
    assert result.errors == 0, result
    assert result.requests > 500, result
    assert result.ui_errors == 0 and result.ui_questions >= 5, result
    # Starved, the UI user's questions would time out (60 s) and count as
    # ui_errors; served in turn, they take about as long as an API request.
    assert result.ui_p50_ms < 5_000, result
    assert result.rss_end_mb - result.rss_warm_mb < 80, result  # flat after warm-up (~10 MB seen)
