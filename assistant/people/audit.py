"""The audit trail: one JSON line per question answered and per vote, by
every front end (``audit.jsonl`` in the index directory by default).

    {"time": "2027-03-01T09:12:44Z", "event": "answer", "user": "dana", "groups": ["hr"],
     "question": "How many days of leave?", "scope": ["hr/"], "cited": ["hr/leave.docx"], "abstained": false}
    {"time": "2027-03-01T09:13:02Z", "event": "vote", "user": "dana", "groups": ["hr"],
     "question": "How many days of leave?", "cited": ["hr/leave.docx"], "liked": false}

Append-only: records are only ever added. Past ``max_bytes`` the file is
rotated (``audit.jsonl.1``, ``.2``, …, the oldest beyond ``keep`` dropped),
and rotated files older than ``retention_days`` are deleted. With
``questions=False`` no question text is written (the rest still is).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def utc_now() -> str:
    """Now, as the server's records write it.

    >>> len(utc_now()), utc_now().endswith("Z")
    (20, True)
    """
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class AuditSettings:
    path: Path
    max_bytes: int = 10 * 2**20
    keep: int = 5  # rotated files kept
    retention_days: float | None = None  # rotated files older than this are deleted
    questions: bool = True  # False: no question text in the log


class AuditLog:
    """Appends records to the audit file, from any thread."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        settings.path.parent.mkdir(parents=True, exist_ok=True)
        self._expire()

    def answered(self, asker, question: str, scope, answer) -> None:
        self._write({"event": "answer", **self._who(asker), **self._question(question),
                     "scope": _scope_list(scope), "cited": cited(answer), "abstained": bool(answer.abstained)})

    def voted(self, asker, question: str, answer, liked: bool) -> None:
        self._write({"event": "vote", **self._who(asker), **self._question(question), "cited": cited(answer),
                     "liked": liked})

    def _who(self, asker) -> dict[str, Any]:
        if asker is None:
            return {"user": None, "groups": []}
        return {"user": asker.user, "groups": sorted(asker.groups)}

    def _question(self, question: str) -> dict[str, str]:
        return {"question": question} if self.settings.questions else {}

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps({"time": utc_now(), **record}, ensure_ascii=False) + "\n"
        path = self.settings.path
        try:
            with self._lock:
                if path.exists() and path.stat().st_size + len(line.encode()) > self.settings.max_bytes:
                    self._rotate()
                with open(path, "a", encoding="utf-8") as out:
                    out.write(line)
        except OSError as exc:  # an audit that cannot be written must not cost the asker the answer
            log.error("the audit log %s cannot be written: %s", path, exc)

    def _rotate(self) -> None:
        path, keep = self.settings.path, self.settings.keep
        oldest = path.with_name(f"{path.name}.{keep}")
        if keep <= 0:
            path.unlink()
            return
        if oldest.exists():
            oldest.unlink()
        for n in range(keep - 1, 0, -1):
            older = path.with_name(f"{path.name}.{n}")
            if older.exists():
                os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
        os.replace(path, path.with_name(f"{path.name}.1"))
        self._expire()

    def _expire(self) -> None:
        days = self.settings.retention_days
        if days is None:
            return
        cutoff = time.time() - days * 86400
        for rotated in self.settings.path.parent.glob(self.settings.path.name + ".*"):
            if rotated.suffix.lstrip(".").isdigit() and rotated.stat().st_mtime < cutoff:
                rotated.unlink()


def cited(answer) -> list[str]:
    """The documents an answer cites, each once, in citation order."""
    return list(dict.fromkeys(c.source for c in getattr(answer, "citations", ())))


def _scope_list(scope) -> list[str] | None:
    """What the asker asked within (None: everything), as they wrote it."""
    if scope is None or scope == "" or scope == []:
        return None
    return [scope] if isinstance(scope, str) else [str(s) for s in scope]


def read(path: Path) -> list[dict]:
    """Every record of an audit file and its rotated files, oldest first: the
    inverse of what ``AuditLog`` writes."""
    files = sorted(path.parent.glob(path.name + ".*"), key=lambda p: -int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0)
    records = []
    for file in [f for f in files if f.suffix[1:].isdigit()] + ([path] if path.exists() else []):
        records += [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return records
