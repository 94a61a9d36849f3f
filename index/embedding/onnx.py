"""The model as an ONNX graph on onnxruntime, with the model's own tokenizer
(``tokenizers``), mean pooling and unit rows: the same vectors as
sentence-transformers (fp32: cosine >= 0.9999) without importing torch, so
a question costs one tokenizer call and one forward pass. The fp32 graph
stores its word table in fp16 (``fp16.py``): 23 MB less in memory.

The graph is exported once, locally, from the model's own weights, by
torch (sentence-transformers stays the reference and the exporter), into
``~/.cache/askdoc/onnx/`` (``ASKDOC_CACHE`` moves it): by ``make install``
(``python -m index.embedding.models``) or the first ``askdoc index``, never while
answering. A missing or damaged graph is exported again at index time with
a one-line notice; a question that finds none is answered by torch, saying
why. ``--model onnx-int8`` (``NAME@onnx-int8``) runs the graph with 8-bit
weights (dynamic quantization): faster, not equal, so it has a model id of
its own.

sentence-transformers' own ONNX backend needs ``optimum-onnx``, which pins
a ``transformers`` older than the one sentence-transformers 6 requires, so
the export here is torch's and the quantization onnxruntime's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from index.embedding.base import BATCH_SIZE, Progress, encode_by_length, normalize_rows, quiet_offline_hub
from index.embedding.tokens import added_at_end, batch_feed
from index.errors import ModelError

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "int8")
# Which export a cached graph is: a new one is made once when it changes.
# 2: the fp32 graph's word table is stored in fp16 (index/embedding/fp16.py).
GRAPH_FORMAT = 2


def cache_dir() -> Path:
    return Path(os.environ.get("ASKDOC_CACHE", Path.home() / ".cache" / "askdoc")) / "onnx"


def graph_path(load_from: str, precision: str) -> Path:
    """Where the graph of the model in ``load_from`` is cached."""
    key = hashlib.sha256(str(Path(load_from).resolve()).encode()).hexdigest()[:16]
    return cache_dir() / key / f"model-{precision}.{GRAPH_FORMAT}.onnx"


def earlier_graph_path(load_from: str, precision: str) -> Path:
    """Where an earlier format's graph of the same model lies: a question
    runs it until the next export replaces it (the vectors are the same)."""
    return graph_path(load_from, precision).with_name(f"model-{precision}.onnx")


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # its warnings are for its developers
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def open_graph(load_from: str, precision: str = "fp32", threads: int = 1):
    """A session on the graph of the model in ``load_from``, exported first
    when missing or unreadable (at index time: this needs torch and takes
    seconds). The graph is read once: the session that checks it is the one
    returned."""
    path = graph_path(load_from, precision)
    if path.exists():
        try:
            return _session(path, threads)
        except Exception as exc:  # onnxruntime raises its own types for a damaged file
            log.warning("the ONNX export %s is damaged (%s); exporting it again", path, str(exc).splitlines()[0])
    else:
        log.info("exporting %s to ONNX (%s) in %s, once", load_from, precision, path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        export(load_from, path, precision)
    except ImportError as exc:
        raise ModelError(f"exporting the model to ONNX needs onnx, onnxruntime and torch ({exc})") from exc
    # The graph of an earlier format is not read again once this one is there: 90 MB freed.
    earlier_graph_path(load_from, precision).unlink(missing_ok=True)
    try:
        return _session(path, threads)
    except Exception as exc:
        raise ModelError(f"cannot run the ONNX export {path}: {str(exc).splitlines()[0]}") from exc


def ensure_graph(load_from: str, precision: str = "fp32") -> Path:
    """The graph's path, exported first when missing or unreadable (``make install``)."""
    open_graph(load_from, precision)
    return graph_path(load_from, precision)


class OnnxEmbedder:
    """The model's transformer as an ONNX graph, mean pooling, unit rows.

    With ``fallback`` (what a question gets), a graph that is not there yet
    is replaced by ``fallback()`` (the torch embedder), with a notice; without
    it, the graph is exported when missing (what an index build does).
    """

    def __init__(self, model_id: str, load_from: str, precision: str = "fp32", batch_size: int = BATCH_SIZE,
                 threads: int | None = None, fallback=None) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}")
        self.model_id, self._load_from, self.precision = model_id, load_from, precision
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self._fallback = fallback
        self._session: Any = None  # an onnxruntime InferenceSession, once loaded
        self._tokenizer: Any = None
        self._dimension: int | None = None
        self._instead: Any = None  # the torch embedder, when no graph could be used

    @property
    def encoder(self) -> str:
        """What computes the vectors: ``onnx-fp32``, ``onnx-int8``, or ``torch`` after a fallback."""
        return "torch" if self._instead is not None else f"onnx-{self.precision}"

    @property
    def dimension(self) -> int:
        self._load()
        return self._instead.dimension if self._instead is not None else self._dimension  # type: ignore[return-value]

    def use_threads(self, threads: int) -> None:
        self.threads = threads

    def prepare(self) -> None:
        """Export the graph now if it is missing or damaged, and load it (an
        index build calls this; a question never exports)."""
        if self._session is None and self._instead is None:
            self._use(open_graph(self._load_from, self.precision, self.threads))

    def _load(self) -> None:
        if self._session is not None or self._instead is not None:
            return
        try:
            import onnxruntime  # noqa: F401
            import tokenizers  # noqa: F401
        except ImportError as exc:
            self._give_up(f"onnxruntime or tokenizers is not installed ({exc})")
            return
        if self._fallback is None:
            self.prepare()
            return
        path = graph_path(self._load_from, self.precision)
        if not path.exists():
            path = earlier_graph_path(self._load_from, self.precision)  # answers until the next export
        if not path.exists():
            self._give_up(f"no ONNX export of the model yet (askdoc index or make install makes it in {path.parent})")
            return
        try:
            session = _session(path, self.threads)
        except Exception as exc:
            self._give_up(f"the ONNX export {path} cannot be read ({str(exc).splitlines()[0]}); askdoc index "
                          "exports it again")
            return
        self._use(session)

    def _use(self, session) -> None:
        """Run ``session`` with the model's own tokenizer (shared with the reader, ``tokens.py``)."""
        from index.embedding.tokens import plain_tokenizer

        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self._session = session
        folder = Path(self._load_from)
        self._tokenizer = plain_tokenizer(str(folder / "tokenizer.json"))
        self._max_tokens = _max_seq_length(folder)
        pad = self._tokenizer.token_to_id("[PAD]")
        self._pad_id = 0 if pad is None else pad
        self._ends = added_at_end(self._tokenizer)
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._dimension = int(self._session.get_outputs()[0].shape[-1])

    def _give_up(self, why: str) -> None:
        if self._fallback is None:
            raise ModelError(why)
        log.warning("%s; using torch for now", why)
        self._instead = self._fallback()

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        self._load()
        if self._instead is not None:
            return self._instead.encode(texts, progress)
        session, tokenizer = self._session, self._tokenizer

        def mean_pooled(batch_texts: list[str]) -> np.ndarray:
            feed = batch_feed(tokenizer.encode_batch(batch_texts), self._max_tokens, self._pad_id, self._ends)
            hidden = session.run(None, {name: feed[name] for name in self._inputs})[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            return (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)

        return normalize_rows(encode_by_length(texts, self.dimension, self.batch_size, progress, mean_pooled))


def _max_seq_length(folder: Path) -> int:
    config = folder / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def export(model_path: str, target: Path, precision: str = "fp32") -> None:
    """Export the transformer at ``model_path`` to ONNX (and, for ``int8``,
    quantize its weights), writing ``target`` atomically: a crash leaves none."""
    quiet_offline_hub()
    import torch
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
            if precision == "int8":
                from onnxruntime.quantization import QuantType, quantize_dynamic

                quantize_dynamic(str(full), str(partial), weight_type=QuantType.QInt8)
                full.unlink(missing_ok=True)
            else:
                import onnx

                from index.embedding.fp16 import halve_tables

                graph = onnx.load(str(full))
                halve_tables(graph)
                onnx.save(graph, str(partial))
                full.unlink(missing_ok=True)
        finally:
            root.setLevel(level)
    os.replace(partial, target)
