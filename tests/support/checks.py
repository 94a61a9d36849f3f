"""The code checks the suite runs (ruff, mypy), startable before their test.

mypy takes about 17 s from a fresh clone (no cache: every CI run). Started
as soon as the session's tests are collected (``start_early``, called by
tests/conftest.py), it runs on the core the first tests leave idle, and its
test (tests/test_lint.py) only collects the result.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import IO

import pytest

from tests.support.data import ROOT

CHECKS = {"ruff": ["ruff", "check", "index", "assistant"], "mypy": ["mypy"]}
STARTED_EARLY = ("mypy",)  # the slow one: ruff takes under a second
EARLY = pytest.StashKey[dict]()  # name -> Running, on the session's config


@dataclass
class Running:
    process: subprocess.Popen
    output: IO[str]

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        """The check's exit status and what it printed, once it is done."""
        try:
            code = self.process.wait(timeout)
        finally:
            self.stop()
        with self.output:
            self.output.seek(0)
            return code, self.output.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start(name: str) -> Running:
    """Run the check ``name`` in the background, its output in a temporary file."""
    output = tempfile.TemporaryFile("w+")
    process = subprocess.Popen([sys.executable, "-m", *CHECKS[name]], cwd=ROOT, stdout=output,
                               stderr=subprocess.STDOUT, text=True)
    return Running(process, output)


def start_early(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the slow checks whose tests were collected."""
    early = config.stash.setdefault(EARLY, {})
    for name in STARTED_EARLY:
        if any(item.nodeid.endswith(f"test_the_code_passes_its_checks[{name}]") for item in items):
            early[name] = start(name)


def stop_early(config: pytest.Config) -> None:
    """Stop what was started early and never collected (a session cut short)."""
    for running in config.stash.get(EARLY, {}).values():
        running.stop()
