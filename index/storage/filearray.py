"""Arrays in ``.npy`` files, read by positional reads instead of mapped.

A memory map is cheap to open, but every page a question reads stays in
the serving process's resident memory until the kernel needs it back: over
days of questions a million-chunk index's vectors and postings (gigabytes)
drift into RSS. ``FileArray`` reads just the rows asked for with
``os.pread`` into fresh arrays, so what a process holds is what it is using;
the kernel's page cache still keeps hot rows fast.

A small file is not worth that care: ``open_rows`` reads a file under
``HOLD_BELOW`` bytes whole, where a question's few dozen reads of it would
each cost a system call.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.npy"
    >>> np.save(path, np.arange(12, dtype=np.float32).reshape(4, 3))
    >>> a = FileArray(path)
    >>> a.shape, a[2].tolist(), a[[3, 0]][:, 0].tolist(), a[1:3].shape
    ((4, 3), [6.0, 7.0, 8.0], [9.0, 0.0], (2, 3))
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import numpy as np


HOLD_BELOW = 32 * 2**20


def open_rows(path: Path) -> "np.ndarray | FileArray":
    """The array in ``path``: in memory when the file is under ``HOLD_BELOW``
    bytes, else a ``FileArray``. Both index the same way."""
    if Path(path).stat().st_size < HOLD_BELOW:
        return np.load(path)
    return FileArray(path)


class FileArray:
    """A read-only C-ordered array in a ``.npy`` file: integer, slice and
    integer-array indexing on the first axis, ``np.asarray`` for all of it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        fmt = np.lib.format
        with open(self.path, "rb") as fh:
            version = fmt.read_magic(fh)
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, fortran_order, dtype = read_header(fh)
            self._offset = fh.tell()
        if fortran_order or dtype.hasobject or not shape:
            raise ValueError(f"{self.path}: only C-ordered arrays of plain numbers can be read by rows")
        self.shape: tuple[int, ...] = tuple(shape)
        self.dtype: np.dtype = dtype
        self._row_shape = self.shape[1:]
        self._row_bytes = int(np.prod(self._row_shape, dtype=np.int64)) * dtype.itemsize
        expected = self._offset + self.shape[0] * self._row_bytes
        if self.path.stat().st_size < expected:
            raise ValueError(f"{self.path} is truncated: {self.path.stat().st_size} bytes, the header needs {expected}")
        self._fd = os.open(self.path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, first: int, count: int) -> np.ndarray:
        """Rows ``first .. first + count - 1`` in one read."""
        out = np.empty((count, *self._row_shape), dtype=self.dtype)
        if out.nbytes == 0:
            return out
        view, done, start = out.data.cast("B"), 0, self._offset + first * self._row_bytes
        while done < len(view):  # one call reads at most ~2 GB
            got = os.preadv(self._fd, [view[done:]], start + done)
            if got <= 0:
                raise OSError(f"{self.path}: short read at row {first}")
            done += got
        return out

    def __getitem__(self, key):
        n = self.shape[0]
        if isinstance(key, (int, np.integer)):
            row = int(key) + n if key < 0 else int(key)
            if not 0 <= row < n:
                raise IndexError(f"row {key} out of range for {n} rows")
            return self._read(row, 1)[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                return self[np.arange(start, stop, step)]
            return self._read(start, max(0, stop - start))
        return self._gather(np.asarray(key))

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """Rows in the order asked; each run of consecutive rows is one read."""
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        flat = rows.reshape(-1).astype(np.int64)
        n = self.shape[0]
        flat = np.where(flat < 0, flat + n, flat)
        if len(flat) and (flat.min() < 0 or flat.max() >= n):
            raise IndexError(f"row index out of range for {n} rows")
        wanted, where = np.unique(flat, return_inverse=True)
        out = np.empty((len(wanted), *self._row_shape), dtype=self.dtype)
        for lo, hi in consecutive_runs(wanted):
            out[lo:hi] = self._read(int(wanted[lo]), hi - lo)
        return out[where].reshape((*rows.shape, *self._row_shape))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self._read(0, self.shape[0])
        return whole if dtype is None else whole.astype(dtype)

    def __repr__(self) -> str:
        return f"FileArray({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"


def consecutive_runs(sorted_rows: np.ndarray) -> list[tuple[int, int]]:
    """``(lo, hi)`` positions of each run of consecutive row numbers in
    ``sorted_rows``: one read or write per run instead of one per row.

    >>> consecutive_runs(np.array([3, 4, 5, 9, 11, 12]))
    [(0, 3), (3, 4), (4, 6)]
    >>> consecutive_runs(np.array([], dtype=np.int64))
    []
    """
    if len(sorted_rows) == 0:
        return []
    breaks = (np.flatnonzero(np.diff(sorted_rows) != 1) + 1).tolist()
    return list(zip([0, *breaks], [*breaks, len(sorted_rows)]))


class FileArrayWriter:
    """The inverse of ``FileArray``: a float32 ``.npy`` file of known shape,
    filled by rows in any order with positional writes. Unlike a writable
    memory map, the rows written never count against the writer's resident
    memory."""

    def __init__(self, path: Path, rows: int, dim: int) -> None:
        self.path, self.dim = path, dim
        self._fh = open(path, "wb")
        np.lib.format.write_array_header_1_0(self._fh, {"descr": "<f4", "fortran_order": False, "shape": (rows, dim)})
        self._data = self._fh.tell()
        self._fh.truncate(self._data + rows * dim * 4)
        self._fh.flush()

    def write(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Rows ``rows`` (ascending or not) get ``values``; runs of
        consecutive rows go out as one write."""
        if len(rows) == 0:
            return
        order = np.argsort(rows, kind="stable")
        rows, values = rows[order], np.ascontiguousarray(values[order], dtype="<f4")
        for lo, hi in consecutive_runs(rows):
            os.pwrite(self._fh.fileno(), values[lo:hi].tobytes(), self._data + int(rows[lo]) * self.dim * 4)

    def close(self) -> FileArray:
        """The rows, read back by rows: a build that pools or indexes them
        never holds the whole file (a mapping would, in its resident pages)."""
        self._fh.close()
        return FileArray(self.path)
