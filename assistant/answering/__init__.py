"""Answering: which sentences answer (``choose``, with a broad answer's
``scenes``), the excerpt around each (``excerpts``), and the ``Answer``
they make (``compose``; its types in ``answer``)."""

from .answer import NOT_FOUND, Answer, Citation, Quote
from .compose import compose

__all__ = ["NOT_FOUND", "Answer", "Citation", "Quote", "compose"]
