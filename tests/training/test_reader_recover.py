"""Weights read back from a shipped reader graph (training/reader/recover.py),
for a further training stage when the run that made the graph is gone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.reader.recover import main, recover

MODELS = Path(__file__).resolve().parents[2] / "assistant" / "models"


def expected_names() -> set[str]:
    names = {"answer.weight", "answer.bias", "span.weight", "span.bias", "encoder.embeddings.LayerNorm.weight",
             "encoder.embeddings.LayerNorm.bias"} | {f"encoder.embeddings.{t}_embeddings.weight"
                                                     for t in ("word", "position", "token_type")}
    for layer in range(6):
        at = f"encoder.encoder.layer.{layer}."
        for module in ("attention.self.query", "attention.self.key", "attention.self.value",
                       "attention.output.dense", "intermediate.dense", "output.dense"):
            names |= {at + module + ".weight", at + module + ".bias"}
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            names |= {at + norm + ".weight", at + norm + ".bias"}
    return names


def test_every_weight_of_the_reader_comes_back_by_its_training_name_and_shape():
    weights = recover(MODELS / "reader-v4-int8.onnx", {})
    assert set(weights) == expected_names()
    assert weights["encoder.encoder.layer.0.intermediate.dense.weight"].shape == (1536, 384)  # torch's out x in
    assert weights["span.weight"].shape == (2, 384) and weights["answer.weight"].shape == (1, 384)
    assert weights["encoder.embeddings.word_embeddings.weight"].shape == (30522, 384)


def test_a_starting_weight_on_the_same_code_is_kept_and_one_elsewhere_is_not():
    plain = recover(MODELS / "reader-v4-int8.onnx", {})
    kept, passed_over = "encoder.encoder.layer.2.output.dense.weight", "encoder.encoder.layer.3.output.dense.weight"
    near = plain[kept] + 1e-7  # far within half a step of every code
    far = plain[passed_over] + 1.0
    started = recover(MODELS / "reader-v4-int8.onnx", {kept: near, passed_over: far})
    assert np.array_equal(started[kept], near)
    assert np.array_equal(started[passed_over], plain[passed_over])


def test_an_existing_checkpoint_is_never_replaced(tmp_path):
    out = tmp_path / "checkpoint.pt"
    out.write_bytes(b"a run's checkpoint")
    with pytest.raises(SystemExit, match="not replaced"):
        main([str(MODELS / "reader-v4-int8.onnx"), "--out", str(out)])
    assert out.read_bytes() == b"a run's checkpoint"
