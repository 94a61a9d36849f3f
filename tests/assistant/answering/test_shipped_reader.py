"""The reader askdoc ships (assistant/models/): the file is the one its card
describes (checksum), params.json names it, and it still reads the card's
fixture as it did when it was shipped (training/reader/card.py)."""

from __future__ import annotations

import json

import pytest

from assistant.answering.reader import load_reader
from assistant.params import Params, models_folder
from training.reader.export import sha256

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shipped():
    settings = Params.load().reader
    assert settings is not None, "params.json answers without a reader"
    path = models_folder() / settings.model
    record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return path, record


def test_the_shipped_file_is_the_one_its_card_describes(shipped):
    path, record = shipped
    assert record["file"] == path.name and path.stat().st_size == record["bytes"]
    assert sha256(path) == record["sha256"]
    card = (models_folder() / "README.md").read_text(encoding="utf-8")
    assert record["sha256"] in card and path.name in card


def test_every_reader_kept_in_the_folder_is_the_one_its_record_and_card_name():
    # Earlier versions stay (a params.json may name one); each still matches its record.
    graphs = sorted(models_folder().glob("*.onnx"))
    assert graphs
    card = (models_folder() / "README.md").read_text(encoding="utf-8")
    for path in graphs:
        record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        assert record["file"] == path.name and sha256(path) == record["sha256"] and record["sha256"] in card


def test_the_shipped_reader_reads_its_fixture_as_recorded(shipped):
    path, record = shipped
    reader = load_reader(path.name, threads=1)
    for row in record["fixture"]:
        got = reader.read(row["question"], [(row["sentence"], row["before"], row["after"])])[0]
        # int8 kernels differ a little between CPUs (AVX2, VNNI): the score within a tolerance, the words exact.
        assert got.score == pytest.approx(row["score"], abs=0.15), row["question"]
        assert row["sentence"][got.span[0]:got.span[1]] == row["words"], row["question"]
    answering, missing = record["fixture"][0], record["fixture"][2]  # who opened the bridge; the tunnel it never names
    assert answering["score"] > missing["score"]
