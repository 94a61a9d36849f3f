"""The code checks the suite runs: ruff's lint and mypy's types on index/ and
assistant/, as configured in pyproject.toml; both must be clean."""

from __future__ import annotations

import pytest

from tests.support.checks import CHECKS, EARLY, start

# Integration tier (tests/README.md): ruff and mypy in subprocesses.
pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", list(CHECKS))
def test_the_code_passes_its_checks(name, request):
    # mypy is started when the tests are collected (tests/conftest.py); the rest now.
    running = request.config.stash.get(EARLY, {}).pop(name, None) or start(name)
    code, output = running.finish()
    assert code == 0, output
