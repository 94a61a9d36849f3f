"""The documents panel and ``/api/documents``: what is indexed, and, for an
administrator, adding and deleting files with the index refreshed in the
background.

Writes need the admin token (``askdoc serve --admin-token``), sent as the
``X-Askdoc-Admin`` header (the API token, when there is one, still goes in
``Authorization``). Without a token the server is read-only. An upload is
checked by its content, not its name (a ``.pdf`` must start as a PDF, a
``.docx`` must be a Word package, text must be text), limited in size, and
written under a sanitised name inside the documents folder, never outside
it and never over an existing file unless asked to. Each change starts one
background refresh (``index.build.build_index``: only the changed files are
embedded); the running server swaps to the new index as it does after
``askdoc index``.
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import shutil
import threading
import unicodedata
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable

from assistant.app.live import LiveAssistant
from assistant.errors import BadUpload, Conflict, NotAllowed, TooLarge
from assistant.guard.access import ADMIN_HEADER
from assistant.people.audit import utc_now
from index.documents.formats import FORMATS, SUPPORTED_SUFFIXES
from index.documents.office import PACKAGE_SUFFIXES, PackageTooLarge, check_package
from index.errors import AskdocError

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 2**20
MAX_NAME_BYTES = 255  # one path part, as most file systems allow
MAX_FOLDER_DEPTH = 16
MAX_PATH_BYTES = 1024
_UNSAFE = re.compile(r"[^\w.\- ()+,]+")


@dataclass(frozen=True)
class Refresh:
    """Where the background refresh stands."""

    state: str = "idle"  # idle, running, failed
    stage: str = ""
    done: int = 0
    total: int = 0
    message: str = ""
    finished_at: str = ""


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder or hide, at most 255 bytes
    (the file system's limit) and keeping its suffix when shortened.

    >>> safe_name("../../etc/passwd"), safe_name("Leave policy (2024).docx"), safe_name("a/b\\\\c.txt")
    ('passwd', 'Leave policy (2024).docx', 'c.txt')
    >>> safe_name(".env"), safe_name("rm -rf $HOME;.md")
    ('env', 'rm -rf _HOME_.md')
    >>> long = safe_name("é" * 300 + ".pdf"); long.endswith(".pdf"), len(long.encode()) <= MAX_NAME_BYTES
    (True, True)
    """
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    if len(base.encode()) <= MAX_NAME_BYTES:
        return base
    stem, dot, suffix = base.rpartition(".")
    if not dot or len(suffix) > 16:
        stem, suffix = base, ""
    keep = MAX_NAME_BYTES - len(suffix.encode()) - (1 if suffix else 0)
    stem = stem.encode()[:keep].decode("utf-8", "ignore").rstrip(" .")
    return f"{stem}.{suffix}" if suffix else stem


def safe_folder(folder: str) -> str:
    """A relative folder ("hr/pay") made of safe names; "" for the top;
    ``BadUpload`` when it is deeper than ``MAX_FOLDER_DEPTH`` or longer
    than ``MAX_PATH_BYTES``.

    >>> safe_folder("/hr/../pay/"), safe_folder(""), safe_folder("HR Team/2024")
    ('hr/pay', '', 'HR Team/2024')
    """
    raw = [p for p in str(folder or "").replace("\\", "/").split("/") if p.strip(" .")]
    if len(raw) > MAX_FOLDER_DEPTH:
        raise BadUpload(f"the folder is {len(raw)} levels deep; at most {MAX_FOLDER_DEPTH} are allowed")
    parts = [safe_name(p) for p in raw]
    joined = "/".join(p for p in parts if p and p not in {".", ".."})
    if len(joined.encode()) > MAX_PATH_BYTES:
        raise BadUpload(f"the folder name is {len(joined.encode()):,} bytes long; at most {MAX_PATH_BYTES:,} are allowed")
    return joined


def _head(data: bytes | BinaryIO, size: int = 65536) -> bytes:
    if isinstance(data, bytes):
        return data[:size]
    data.seek(0)
    head = data.read(size)
    data.seek(0)
    return head


def _size(data: bytes | BinaryIO) -> int:
    if isinstance(data, bytes):
        return len(data)
    data.seek(0, os.SEEK_END)
    size = data.tell()
    data.seek(0)
    return size


def check_content(suffix: str, data: bytes | BinaryIO) -> None:
    """``BadUpload`` unless ``data`` (bytes or a file) is what a ``suffix``
    file holds; an office package also within its unpacked-size limits."""
    if suffix not in SUPPORTED_SUFFIXES:
        raise BadUpload(f"{suffix or 'files without an extension'} cannot be indexed "
                        f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})")
    head = _head(data)
    if not head:
        raise BadUpload("the file is empty")
    kind = FORMATS[suffix].kind
    if suffix == ".pdf":
        if not head[:1024].lstrip().startswith(b"%PDF-"):
            raise BadUpload("the file is not a PDF")
        return
    if suffix in PACKAGE_SUFFIXES:
        package = io.BytesIO(data) if isinstance(data, bytes) else data
        try:
            check_package(package)
            names = set(zipfile.ZipFile(package).namelist())
        except (zipfile.BadZipFile, OSError, EOFError):
            raise BadUpload(f"the file is not a {kind}") from None
        except PackageTooLarge as exc:
            raise BadUpload(f"the {kind} is not opened: {exc}") from None
        finally:
            if not isinstance(data, bytes):
                data.seek(0)
        wanted = {".docx": "word/document.xml", ".pptx": "ppt/presentation.xml", ".odt": "content.xml"}[suffix]
        if wanted not in names:
            raise BadUpload(f"the file is not a {kind}")
        return
    # Text, HTML and e-mail: text, not a binary renamed.
    if b"\x00" in head:
        raise BadUpload("the file is binary, not text")


class Library:
    """The documents of a running server, and the changes an administrator makes."""

    def __init__(self, served: LiveAssistant, docs_dir: Path | None, index_dir: Path,
                 admin_token: str | None = None, max_upload_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.served, self.index_dir = served, Path(index_dir)
        self.docs_dir = Path(docs_dir) if docs_dir else None
        self.admin_token = admin_token or None
        self.max_upload_bytes = max_upload_bytes
        self._refresh = Refresh()
        self._lock = threading.Lock()
        self._again = False
        self._worker: threading.Thread | None = None

    @property
    def editable(self) -> bool:
        return self.admin_token is not None and self.docs_dir is not None

    def listing(self, visible: Callable[[str], bool] | None = None) -> dict:
        """What ``GET /api/documents`` returns; with ``visible``, only the
        documents and skipped files it allows, and the refresh without its
        counts and message (they tell of the others)."""
        index = self.served.index
        manifest = index.manifest
        documents = []
        for row, entry in enumerate(manifest.documents):
            if visible is not None and not visible(entry.id):
                continue
            suffix = PurePosixPath(entry.id).suffix.lower()
            pages = None
            if suffix in {".pdf", ".pptx"}:  # from the metadata: a listing never reads document texts
                documents_ = index.documents
                pages = documents_.page_count(row) if hasattr(documents_, "page_count") else \
                    len(documents_[row].page_starts)
            kind = FORMATS[suffix].kind if suffix in FORMATS else suffix.lstrip(".")
            documents.append({"id": entry.id, "type": kind, "pages": pages,
                              "size": entry.size, "indexed_at": entry.indexed_at or manifest.built_at})
        refresh = asdict(self._refresh)
        if visible is not None:
            refresh.update(done=0, total=0, message="")
        return {
            "documents": documents,
            "skipped": [{"id": e.id, "reason": e.reason or "not readable", "size": e.size} for e in manifest.skipped
                        if visible is None or visible(e.id)],
            "built_at": manifest.built_at, "editable": self.editable, "refresh": refresh,
            "max_upload_bytes": self.max_upload_bytes,
        }

    def authorize(self, token: str | None) -> None:
        if not self.editable:
            raise NotAllowed("this server's documents are read-only (start it with --admin-token to allow changes)")
        if not token or not secrets.compare_digest(token.encode(), (self.admin_token or "").encode()):
            raise NotAllowed(f"a valid admin token is required ({ADMIN_HEADER} header)")

    def add(self, token: str | None, filename: str, data: bytes | BinaryIO, folder: str = "",
            replace: bool = False) -> str:
        """Write one uploaded file into the documents folder and refresh; its id."""
        return self.add_many(token, [(filename, data)], folder, replace)[0]

    def add_many(self, token: str | None, files: list[tuple[str, bytes | BinaryIO]], folder: str = "",
                 replace: bool = False) -> list[str]:
        """Write uploaded files (name, bytes or a file) into the documents
        folder, all of them or, when any is refused, none; then refresh once.
        Their ids."""
        self.authorize(token)
        if not files:
            raise BadUpload("no file was sent")
        into = safe_folder(folder)
        planned: list[tuple[str, Path, bytes | BinaryIO]] = []
        for filename, data in files:
            try:
                planned.append(self._plan(filename, data, into, replace, [p[0] for p in planned]))
            except AskdocError as exc:
                raise type(exc)(f"{filename}: {exc}") from None
        written: list[Path] = []
        try:
            for _, target, data in planned:
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(f".askdoc-{secrets.token_hex(8)}.upload")
                with open(partial, "wb") as out:
                    if isinstance(data, bytes):
                        out.write(data)
                    else:
                        data.seek(0)
                        shutil.copyfileobj(data, out, 2**20)
                written.append(partial)
        except OSError as exc:
            for partial in written:
                partial.unlink(missing_ok=True)
            raise BadUpload(f"the file cannot be written: {exc.strerror or exc}") from None
        # The folder never holds half a file, nor some files of a request without the others.
        for (doc_id, target, _), partial in zip(planned, written):
            os.replace(partial, target)
            log.info("added %s to %s", doc_id, self.docs_dir)
        self.start_refresh()
        return [doc_id for doc_id, _, _ in planned]

    def _plan(self, filename: str, data: bytes | BinaryIO, folder: str, replace: bool,
              taken: list[str]) -> tuple[str, Path, bytes | BinaryIO]:
        """Where one upload goes, once its name, size and content are checked."""
        name = safe_name(filename)
        suffix = PurePosixPath(name).suffix.lower()
        if not PurePosixPath(name).stem:
            raise BadUpload(f"{filename!r} is not a usable file name")
        if _size(data) > self.max_upload_bytes:
            raise TooLarge(f"the file is larger than {self.max_upload_bytes // 2**20} MB")
        check_content(suffix, data)
        doc_id = "/".join(p for p in (folder, name) if p)
        if doc_id in taken:
            raise BadUpload("the request holds two files of this name")
        target = self._inside(doc_id)
        assert self.docs_dir is not None  # authorize() let the write through
        for parent in reversed(target.parents):
            if parent.exists() and not parent.is_dir():
                raise Conflict(f"{parent.relative_to(self.docs_dir.resolve())} is a file, not a folder")
        if target.is_dir():
            raise Conflict(f"{doc_id} is a folder")
        if target.exists() and not replace:
            raise Conflict(f"{doc_id} already exists; replace it on purpose with replace=true")
        return doc_id, target, data

    def remove(self, token: str | None, doc_id: str) -> None:
        """Delete a document's file (one the listing shows: indexed or
        skipped) and refresh."""
        self.authorize(token)
        manifest = self.served.index.manifest
        known = {e.id for e in manifest.documents} | {e.id for e in manifest.skipped}
        if doc_id not in known:
            raise KeyError(doc_id)
        target = self._inside(doc_id)
        target.unlink(missing_ok=True)
        log.info("deleted %s from %s", doc_id, self.docs_dir)
        self.start_refresh()

    def _inside(self, doc_id: str) -> Path:
        """The file ``doc_id`` names, refusing any path that leaves the folder."""
        assert self.docs_dir is not None
        root = self.docs_dir.resolve()
        target = (root / doc_id).resolve()
        if root not in target.parents:
            raise BadUpload(f"{doc_id!r} is outside the documents folder")
        return target

    def start_refresh(self) -> None:
        """Refresh the index in the background; a change made meanwhile runs
        one more refresh after it."""
        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                self._again = True
                return
            self._refresh = Refresh(state="running", stage="starting")
            self._worker = threading.Thread(target=self._refresh_until_current, name="askdoc-refresh", daemon=True)
            self._worker.start()

    def wait(self, timeout: float | None = None) -> Refresh:
        """Wait for the running refresh (tests and scripts)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self._refresh

    def _refresh_until_current(self) -> None:
        from index.build import build_index

        while True:
            def progress(stage: str, done: int, total: int) -> None:
                self._refresh = Refresh(state="running", stage=stage, done=done, total=total)

            try:
                assert self.docs_dir is not None  # a refresh follows a change to it
                report = build_index(self.docs_dir, self.index_dir, self.served.assistant.embedder, progress=progress)
                self.served.reload_if_changed()
                state = Refresh(state="idle", message=f"{report.documents} documents indexed "
                                f"({report.embedded} embedded, {report.removed} removed, {len(report.skipped)} skipped)",
                                finished_at=utc_now())
            except Exception as exc:  # the server keeps serving the previous index; the panel shows why
                log.exception("refreshing the index after a change failed")
                state = Refresh(state="failed", message=str(exc), finished_at=utc_now())
            with self._lock:
                if not self._again:
                    self._refresh = state
                    return
                self._again = False
                self._refresh = Refresh(state="running", stage="starting")
