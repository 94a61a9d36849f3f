"""The errors the answering half raises beyond ``index.errors``'s (whose
``AskdocError`` they extend, so the CLI turns them into a message and an
exit code and the API into an HTTP status, as it does the index's)."""

from __future__ import annotations

from index.errors import AskdocError


class NotAllowed(AskdocError):
    """A write without a valid admin token (or on a read-only server)."""


class BadUpload(AskdocError):
    """A file that cannot be added: wrong type, too large, a bad name."""


class TooLarge(BadUpload):
    """A file past the upload limit."""


class Conflict(AskdocError):
    """A file of that name exists and replacing it was not asked for."""


class SignInError(Exception):
    """An OpenID provider's answer cannot be used (shown to the person on the sign-in page)."""
