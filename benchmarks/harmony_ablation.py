"""Slide-LoRA ablation: does training reading and rendering together cost either one?

    python benchmarks/harmony_ablation.py --stage1 runs/harmony/stage1            # 4 variants, 300 steps each
    python benchmarks/harmony_ablation.py --stage1 runs/harmony/stage1 --steps 50 # quick look

The papers' claim (TextHarmony, Orthus): one network trained on text-output and
image-output tasks at once loses a few points on each modality against single-task
models, and Slide-LoRA (text, image and shared LoRA experts mixed by a gate) recovers
most of the loss. Every variant starts stage 2 from the *same* stage-1 checkpoint, with
the same steps, batch, learning rate and seed, and differs only in task mix and adapter:

- ``text-only``: reading tasks (recognize, spot, ask, caption), one plain LoRA;
- ``image-only``: picture tasks (render, fill, erase), one plain LoRA;
- ``unified plain LoRA``: all seven tasks, one plain LoRA of rank 3r;
- ``unified Slide-LoRA``: all seven tasks, three experts of rank r, learned per-token gate
  (same adapter parameters as the plain LoRA, plus the small gates).

Metrics, both on held-out words never seen in training: word accuracy of the network's
reading of 32x128 synthetic word images (``--recognition`` of them), and the share of
rendered words (``--render`` of them) that PP-OCRv4 reads back exactly. The table goes
to stdout and to docs/harmony/ablation.md, JSON to --out, progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "harmony_ablation.json"
DEFAULT_TABLE = REPO / "docs" / "harmony" / "ablation.md"

VARIANTS = [
    ("text-only (plain LoRA)", "text", "plain"),
    ("image-only (plain LoRA)", "image", "plain"),
    ("unified, plain LoRA", "all", "plain"),
    ("unified, Slide-LoRA", "all", "slide"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage1", type=Path, required=True, help="stage-1 checkpoint folder (OUT/stage1 of ocromni train)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/harmony_ablation"), help="folder for the variants' runs")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1.5e-3)
    parser.add_argument("--recognition", type=int, default=300)
    parser.add_argument("--render", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", help="comma-separated variant numbers (1-4) to run")
    parser.add_argument("--eval-only", action="store_true", help="re-evaluate the variants' finished runs in --work")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE)
    args = parser.parse_args()

    import torch

    from ocromni.models.harmony.config import HarmonyConfig
    from ocromni.models.harmony.train import TrainPlan, evaluate, train

    torch.set_num_threads(args.threads)
    stage1_config = HarmonyConfig.load(args.stage1)
    results = json.loads(args.out.read_text()).get("variants", {}) if args.out.is_file() else {}
    chosen = {int(v) for v in args.only.split(",")} if args.only else set(range(1, len(VARIANTS) + 1))
    for number, (name, tasks, lora) in enumerate(VARIANTS, 1):
        if number not in chosen:
            continue
        config = HarmonyConfig.from_dict({**stage1_config.to_dict(), "lora_mode": lora, "routing": "learned"})
        plan = TrainPlan(out=args.work / f"v{number}-{tasks}-{lora}", stage1_steps=0, stage2_steps=args.steps,
                         batch_size=args.batch_size, lr=args.lr, stage2_lr=args.lr, stage2_mix=tasks,
                         eval_every=10 ** 9, eval_recognition=0, eval_render=0, start_from=args.stage1,
                         threads=args.threads, warmup=min(50, args.steps // 5 + 1))
        print(f"[{number}/{len(VARIANTS)}] {name}: {args.steps} stage-2 steps", file=sys.stderr, flush=True)
        if args.eval_only:
            from ocromni.models.harmony.model import HarmonyNetwork

            network = HarmonyNetwork.from_pretrained(plan.out / "final")
            train_seconds = results.get(name, {}).get("train_seconds", 0)
        else:
            started = time.time()
            network = train(config, plan)
            train_seconds = time.time() - started
        metrics = evaluate(network, args.recognition, args.render, samples_dir=plan.out / "samples")
        results[name] = {"tasks": tasks, "lora": lora, "steps": args.steps, "train_seconds": round(train_seconds),
                         **{k: round(v, 4) for k, v in metrics.items()}}
        print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
        write(args, results)
    write(args, results)


def write(args, results: dict) -> None:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"stage1": str(args.stage1), "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
            "recognition_samples": args.recognition, "render_samples": args.render,
            "machine": f"{platform.processor() or platform.machine()}, torch threads {args.threads}"}
    args.out.write_text(json.dumps({"meta": meta, "variants": results}, indent=1) + "\n")
    lines = [
        "| variant | stage-2 tasks | adapter | held-out word accuracy | reading 1-NED | PP-OCR exact read-back of rendered words | rendering 1-NED | train s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, _, _ in VARIANTS:
        if name in results:
            r = results[name]
            lines.append(f"| {name} | {r['tasks']} | {r['lora']} | {r.get('word_accuracy', 0):.1%} "
                         f"| {r.get('reading_ned', float('nan')):.3f} | {r.get('render_readback', 0):.1%} "
                         f"| {r.get('render_ned', float('nan')):.3f} | {r['train_seconds']} |")
    table = "\n".join(lines)
    print(table)
    if args.table:
        args.table.parent.mkdir(parents=True, exist_ok=True)
        header = (f"# Slide-LoRA ablation (generated by benchmarks/harmony_ablation.py)\n\n"
                  f"Every variant: stage 2 for {args.steps} steps of batch {args.batch_size} (lr {args.lr}) from the "
                  f"same stage-1 checkpoint; {args.recognition} held-out word images for reading, "
                  f"{args.render} held-out words for rendering (PP-OCRv4 exact read-back).\n\n")
        existing = args.table.read_text() if args.table.is_file() else ""
        notes = existing.split("<!-- notes -->", 1)[1] if "<!-- notes -->" in existing else "\n"
        args.table.write_text(header + table + "\n\n<!-- notes -->" + notes)


if __name__ == "__main__":
    main()
