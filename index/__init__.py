"""askdoc's indexing half: documents in, a searchable FAISS + BM25 index out.

Nothing here imports ``assistant``; data flows docs -> index -> assistant.
"""

from __future__ import annotations

__version__ = "0.1.0"
