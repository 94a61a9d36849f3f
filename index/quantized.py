"""An opt-in faster embedder: the same model exported to ONNX and quantized
to 8-bit integers (dynamic quantization), run by onnxruntime on the CPU.

Chosen with ``--model onnx-int8`` (the bundled model) or ``--model
<name-or-folder>@onnx-int8``. The export happens once, locally, from the
model's own weights, into ``~/.cache/askdoc/onnx/`` (``ASKDOC_CACHE`` moves
it); nothing is downloaded. Its vectors are close to the original model's
but not equal, so an index records the backend in its model id and is
re-embedded when the backend changes.

sentence-transformers' own ONNX backend needs ``optimum-onnx``, which pins a
``transformers`` older than the one sentence-transformers 6 requires, so the
export here is torch's and the quantization onnxruntime's; pooling (mean
over tokens) and normalization are the model's own.

Needs the ``onnx`` extra: ``pip install -e '.[onnx]'``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from .embed import BATCH_SIZE, Progress, encode_by_length, normalize_rows
from .errors import ModelError

log = logging.getLogger(__name__)

def cache_dir() -> Path:
    return Path(os.environ.get("ASKDOC_CACHE", Path.home() / ".cache" / "askdoc")) / "onnx"


class OnnxInt8Embedder:
    """The model's transformer as an int8 ONNX graph, mean pooling, unit rows."""

    def __init__(self, model_id: str, load_from: str, batch_size: int = BATCH_SIZE, threads: int | None = None) -> None:
        self.model_id, self._load_from = model_id, load_from
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self._session = None
        self._tokenizer = None
        self._max_length = 256
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        self._load()
        assert self._dimension is not None
        return self._dimension

    def _load(self):
        if self._session is not None:
            return self._session
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelError("the onnx-int8 backend needs onnxruntime: pip install -e '.[onnx]'") from exc
        from transformers import AutoTokenizer

        path = self._exported()
        self._tokenizer = AutoTokenizer.from_pretrained(self._load_from)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._max_length = _max_seq_length(Path(self._load_from))
        self._dimension = int(self._session.get_outputs()[0].shape[-1])
        return self._session

    def _exported(self) -> Path:
        """The int8 graph for this model, exported and quantized on first use."""
        key = hashlib.sha256(str(Path(self._load_from).resolve()).encode()).hexdigest()[:16]
        folder = cache_dir() / key
        target = folder / "model-int8.onnx"
        if target.exists():
            return target
        log.info("exporting %s to ONNX int8 in %s (once)", self.model_id, folder)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            export_int8(self._load_from, target)
        except ImportError as exc:
            raise ModelError(f"the onnx-int8 backend needs onnx and onnxruntime: pip install -e '.[onnx]' ({exc})") from exc
        return target

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        session = self._load()

        def mean_pooled(batch_texts: list[str]) -> np.ndarray:
            batch = self._tokenizer(batch_texts, padding=True, truncation=True, max_length=self._max_length,
                                    return_tensors="np")
            hidden = session.run(None, {i.name: batch[i.name].astype(np.int64) for i in session.get_inputs()})[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            return (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)

        return normalize_rows(encode_by_length(texts, self.dimension, self.batch_size, progress, mean_pooled))


def _max_seq_length(folder: Path) -> int:
    import json

    config = folder / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def export_int8(model_path: str, target: Path) -> None:
    """Export the transformer at ``model_path`` to ONNX and quantize its
    weights to int8, writing ``target`` (atomically: a crash leaves none)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModel.from_pretrained(model_path).eval()
    sample = tokenizer(["an example", "a somewhat longer example sentence"], padding=True, return_tensors="pt")
    # Whatever the tokenizer feeds this model (BERT-style models add token_type_ids).
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Hidden(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs))).last_hidden_state

    full = target.with_name(target.stem + ".fp32.tmp.onnx")
    partial = target.with_name(target.stem + ".tmp.onnx")
    # The exporter's deprecation notes and the quantizer's advice (printed
    # through the root logger) are for their developers, not our users.
    root = logging.getLogger()
    level = root.level
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root.setLevel(logging.ERROR)
        try:
            torch.onnx.export(
                Hidden(model), tuple(sample[n] for n in names), str(full), input_names=names,
                output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            )
            quantize_dynamic(str(full), str(partial), weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
    full.unlink(missing_ok=True)
    os.replace(partial, target)
