"""The code checks the suite runs: ruff's lint and mypy's types on index/ and
assistant/, as configured in pyproject.toml; both must be clean."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import ROOT

# Integration tier (tests/README.md): ruff and mypy in subprocesses.
pytestmark = pytest.mark.integration


@pytest.mark.parametrize("command", [["ruff", "check", "index", "assistant"], ["mypy"]], ids=["ruff", "mypy"])
def test_the_code_passes_its_checks(command):
    done = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
