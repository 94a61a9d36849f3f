from __future__ import annotations

import numpy as np
import pytest

from index.storage.filearray import FileArray


@pytest.fixture
def saved(tmp_path):
    array = np.arange(40, dtype=np.float32).reshape(10, 4)
    np.save(tmp_path / "a.npy", array)
    return array, FileArray(tmp_path / "a.npy")


@pytest.mark.parametrize("key", [0, 9, -1, np.int64(3), slice(2, 5), slice(None), slice(8, 20), slice(5, 2),
                                 slice(0, 10, 3), [7, 2, 2, 3], np.array([[1, 2], [9, 0]]), np.array([], dtype=np.int64),
                                 np.arange(10) % 3 == 0])
def test_indexing_matches_numpy(saved, key):
    array, rows = saved
    assert np.array_equal(rows[key], array[key])
    assert rows[key].dtype == array.dtype


def test_whole_array_shape_and_len(saved):
    array, rows = saved
    assert rows.shape == array.shape and len(rows) == 10 and rows.ndim == 2
    assert np.array_equal(np.asarray(rows), array)
    assert np.array_equal(rows[[1, 2]] @ np.ones(4, dtype=np.float32), array[[1, 2]].sum(1))


def test_one_dimensional_postings(tmp_path):
    postings = np.array([3, 8, 20, 21, 40], dtype=np.int32)
    np.save(tmp_path / "p.npy", postings)
    assert FileArray(tmp_path / "p.npy")[1:4].tolist() == [8, 20, 21]


@pytest.mark.parametrize("key", [10, -11, [0, 10]])
def test_out_of_range_rows_raise(saved, key):
    with pytest.raises(IndexError):
        saved[1][key]


def test_a_truncated_file_is_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((100, 8), dtype=np.float32))
    data = (tmp_path / "a.npy").read_bytes()
    (tmp_path / "a.npy").write_bytes(data[:-40])
    with pytest.raises(ValueError, match="truncated"):
        FileArray(tmp_path / "a.npy")


def test_rows_read_are_not_views_of_the_file(saved, tmp_path):
    array, rows = saved
    got = rows[[0, 1]]
    got[:] = -1  # writable, and the file is untouched
    assert np.array_equal(rows[[0, 1]], array[[0, 1]])
