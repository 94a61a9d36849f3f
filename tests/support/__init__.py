"""What tests and benchmarks share: paths, a fake embedder, data sets, a
server in a subprocess, a watched browser page, and benchmark helpers.

Benchmarks import it as a package (``python -m tests.benchmarks.accuracy.quality``
from the repository root); ``conftest.py`` turns it into fixtures.
"""

from __future__ import annotations

from .bench import RESULTS, peak_rss_mb, percentile, write_result
from .data import (DATA, DEFAULT_DOCS, ROOT, SHARED, SQUAD2, XQUAD, article_part, make_pdf, make_scanned_pdf, news_questions,
                   showing_short_answers, write_files, xquad_questions)
from .fakes import HashEmbedder
from .servers import (CHROMIUM, CHROMIUM_ARGS, GradioSession, PageWatch, Server, ask_widget, free_port, route_table,
                      sign_in, ui_round_trip)

__all__ = [
    "CHROMIUM", "CHROMIUM_ARGS", "DATA", "DEFAULT_DOCS", "HashEmbedder", "PageWatch", "ask_widget", "RESULTS", "ROOT", "SHARED",
    "SQUAD2", "Server", "XQUAD", "article_part", "free_port", "make_pdf", "make_scanned_pdf", "news_questions", "peak_rss_mb", "percentile", "showing_short_answers",
    "ui_round_trip",
    "write_files", "write_result", "xquad_questions",
]
