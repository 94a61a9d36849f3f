"""Who may read which documents: the permissions file.

``DOCS/.permissions.toml`` (a dot file: never indexed) maps folders or
files, relative to the documents folder, to the groups that may read them.
``""`` is the whole folder and ``"*"`` is everyone signed in::

    "" = ["*"]
    "hr" = ["hr", "managers"]
    "board/minutes-2027.pdf" = ["board"]

A document takes the entry of its nearest folder or file that has one
(``hr/pay/2024.pdf`` takes ``"hr"``'s). A document under no entry at all is
readable by no one: a file that forgets the root closes, it never opens.

    >>> rules = Permissions.parse('"" = ["*"]\\n"hr" = ["hr", "managers"]\\n"hr/open.txt" = ["*"]')
    >>> rules.groups_for("hr/pay/2024.pdf"), rules.groups_for("notes.txt"), rules.groups_for("hr/open.txt")
    (('hr', 'managers'), ('*',), ('*',))
    >>> rules.readable(["a.txt", "hr/pay.pdf", "hr/open.txt"], groups={"sales"})
    ['a.txt', 'hr/open.txt']
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, Sequence

from assistant.retrieval.scope import Scope, check_names, folders_of
from index.errors import PermissionsError

log = logging.getLogger(__name__)

FILE_NAME = ".permissions.toml"
EVERYONE = "*"


@dataclass(frozen=True)
class Permissions:
    """Entries of the permissions file: a normalized path ("" for the root)
    and the groups that may read what lies under it."""

    entries: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def parse(cls, text: str, source: str = FILE_NAME) -> "Permissions":
        """The entries of a permissions file's text; a ``PermissionsError``
        naming the line of anything malformed.

        >>> Permissions.parse('"/hr/" = ["hr"]').entries
        (('hr', ('hr',)),)
        >>> Permissions.parse('"hr" = "hr"')
        Traceback (most recent call last):
        ...
        index.errors.PermissionsError: .permissions.toml, line 1: "hr" must list groups, like "hr" = ["hr", "managers"]
        """
        try:
            table = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PermissionsError(f"{source}: {exc}") from None
        entries: dict[str, tuple[str, ...]] = {}
        for key, groups in table.items():
            where = f"{source}, line {_line_of(text, key)}"
            if not isinstance(groups, list) or not all(isinstance(g, str) and g.strip() for g in groups):
                raise PermissionsError(f'{where}: "{key}" must list groups, like "{key}" = ["hr", "managers"]')
            path = normalized(key)
            if path is None:
                raise PermissionsError(f'{where}: "{key}" is not a path inside the documents folder')
            if path in entries:
                raise PermissionsError(f'{where}: "{key}" is listed twice')
            entries[path] = tuple(dict.fromkeys(g.strip() for g in groups))
        return cls(tuple(sorted(entries.items())))

    @classmethod
    def everyone(cls) -> "Permissions":
        """What a server with no permissions file applies: all of it, to everyone signed in."""
        return cls((("", (EVERYONE,)),))

    @cached_property
    def _by_path(self) -> dict[str, tuple[str, ...]]:
        return dict(self.entries)

    def groups_for(self, doc_id: str) -> tuple[str, ...]:
        """The groups that may read ``doc_id``: its nearest entry's (none: nobody)."""
        by_path = self._by_path
        path = doc_id.strip("/")
        while True:
            if path in by_path:
                return by_path[path]
            if not path:
                return ()
            path = path.rpartition("/")[0]

    def may_read(self, doc_id: str, groups: Iterable[str]) -> bool:
        allowed = self.groups_for(doc_id)
        return EVERYONE in allowed or not set(allowed).isdisjoint(groups)

    def readable(self, doc_ids: Sequence[str], groups: Iterable[str]) -> list[str]:
        """The documents among ``doc_ids`` that someone in ``groups`` may read, in order."""
        groups = frozenset(groups)
        return [d for d in doc_ids if self.may_read(d, groups)]


def normalized(path: str) -> str | None:
    """A permissions key as a document id prefix ("" for the root); None for
    one that leaves the documents folder.

    >>> normalized("/hr/pay/"), normalized(""), normalized("./a.txt"), normalized("../etc")
    ('hr/pay', '', 'a.txt', None)
    """
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


def _line_of(text: str, key: str) -> int:
    """The line where ``key`` is defined (1 when it cannot be told)."""
    pattern = re.compile(r"^\s*(?:\"" + re.escape(key) + r"\"|'" + re.escape(key) + r"'|" + re.escape(key) + r")\s*=")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return 1


class PermissionsFile:
    """The permissions file of a running server, read again when it changes.

    A missing or malformed file at start is the caller's error (the server
    does not start open); a change that breaks it while running is logged
    and the last good entries stay in force.
    """

    def __init__(self, path: Path, required: bool = True) -> None:
        self.path = path
        # Once there is a file, its removal keeps what it said: it never opens everything up.
        self.required = required or path.exists()
        self._stamp: tuple[int, int] | None = None
        self._rules = self._read()

    def _read(self) -> Permissions:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if self.required:
                raise PermissionsError(f"no permissions file at {self.path}") from None
            self._stamp = None
            return Permissions.everyone()
        text = self.path.read_text(encoding="utf-8")
        rules = Permissions.parse(text, str(self.path))
        self._stamp = (stat.st_mtime_ns, stat.st_size)
        return rules

    def current(self) -> Permissions:
        """The entries in force now: reread when the file's time or size changed."""
        try:
            stat = self.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            try:
                self._rules = self._read()
                log.info("permissions reloaded from %s", self.path)
            except (PermissionsError, OSError, UnicodeDecodeError) as exc:
                log.error("%s; the permissions read before stay in force", exc)
                self._stamp = stamp
        return self._rules


class Readers:
    """What each asker may read, applied where answers are made: a question's
    scope becomes the documents it named (or all) that the asker may read,
    before anything is ranked. ``rules`` None: everyone signed in reads
    everything (a server that knows its users but has no permissions file)."""

    def __init__(self, rules: PermissionsFile | None) -> None:
        self.rules = rules

    def documents(self, asker, doc_ids: Sequence[str]) -> list[str]:
        """The documents among ``doc_ids`` that ``asker`` may read (none without an asker)."""
        if asker is None:
            return []
        if self.rules is None:
            return list(doc_ids)
        return self.rules.current().readable(doc_ids, asker.groups)

    def may_read(self, asker, doc_id: str) -> bool:
        return self.visible(asker)(doc_id)

    def visible(self, asker) -> Callable[[str], bool]:
        """Whether ``asker`` may read a document, for many documents: the
        permissions file is looked at once, not once per document."""
        if asker is None:
            return lambda doc_id: False
        if self.rules is None:
            return lambda doc_id: True
        rules, groups = self.rules.current(), frozenset(asker.groups)
        return lambda doc_id: rules.may_read(doc_id, groups)

    def scope_for(self, asker, doc_ids: Sequence[str], requested: Scope | None) -> Scope | None:
        """The documents a question of ``asker`` searches: those of
        ``requested`` (all without it) that the asker may read (None: all of
        them, unrestricted). An entry that names nothing the asker may read
        is refused in the words used for one that names nothing at all, so a
        scope cannot probe for names.

        >>> import types
        >>> readers = Readers(None)
        >>> dana = types.SimpleNamespace(groups=frozenset({"sales"}))
        >>> readers.scope_for(dana, ["a.txt", "hr/b.txt"], Scope.parse("hr")), readers.scope_for(dana, ["a.txt"], None)
        (Scope(entries=('hr/b.txt',)), None)
        """
        readable = self.documents(asker, doc_ids)
        if requested is None and asker is not None and len(readable) == len(doc_ids):
            return None
        if requested is not None:
            check_names(requested, set(readable), set(folders_of(readable)))
            readable = [d for d in readable if requested.holds(d)]
        return Scope(tuple(readable))
