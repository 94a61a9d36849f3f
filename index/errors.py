"""The one error hierarchy of askdoc.

The library raises these; the CLI turns them into a one-line message and an
exit code, the HTTP API into a status. ``exit_code`` follows the convention
that 2 means "the index needs attention" and 1 means "bad input".
"""

from __future__ import annotations


class AskdocError(Exception):
    """Base class: every error askdoc means to show a user."""

    exit_code = 1


class DocumentsError(AskdocError):
    """The docs folder is missing or holds nothing that can be indexed."""


class ModelError(AskdocError):
    """The embedding model cannot be loaded."""


class IndexStateError(AskdocError):
    """The index directory is missing, corrupt, or built for something else."""

    exit_code = 2


class IndexMissingError(IndexStateError):
    """No index has been built in the directory yet."""


class IndexCorruptError(IndexStateError):
    """An index file is unreadable, truncated or inconsistent."""


class IndexMismatchError(IndexStateError):
    """The index was built with another model or format than configured."""


class DocsMismatchError(IndexStateError):
    """A command names another documents folder than the index was built from."""


class IndexLockedError(IndexStateError):
    """Another process is building this index right now."""


class StoreError(IndexStateError):
    """The engine holding the index's vectors (Milvus, Qdrant) cannot be used right now."""


class QuestionError(AskdocError):
    """The question itself is unusable (empty, too long)."""


__all__ = [
    "AskdocError",
    "DocumentsError",
    "ModelError",
    "IndexStateError",
    "IndexMissingError",
    "IndexCorruptError",
    "IndexMismatchError",
    "DocsMismatchError",
    "IndexLockedError",
    "StoreError",
    "QuestionError",
]


class PermissionsError(AskdocError):
    """The permissions file cannot be read or says something askdoc cannot apply."""
