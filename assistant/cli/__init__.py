"""The ``askdoc`` command: its commands (``commands``), their shared
``options`` and ``serve_options``, the index a command builds or opens
(``indexing``), and what it prints (``terminal``)."""

from .commands import cli, main

__all__ = ["cli", "main"]
