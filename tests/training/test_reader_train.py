"""The reader's training command (training/reader/train.py): what it
refuses before it reads any data. Training itself never runs in the suite."""

from __future__ import annotations

import pytest


def test_hold_without_a_checkpoint_to_keep_is_refused_before_any_data_is_read(tmp_path, capsys):
    from training.reader.train import main

    with pytest.raises(SystemExit) as stop:
        main(["--squad", str(tmp_path / "absent"), "--out", str(tmp_path / "run"), "--hold", "1"])
    assert stop.value.code == 2
    assert "--hold needs --hold-to or --init" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
