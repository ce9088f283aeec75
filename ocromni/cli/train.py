"""train: two-stage training of the unified harmony network on synthetic data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def train(
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for checkpoints, curves and samples; an existing checkpoint there is resumed.")] = None,
    stage1_steps: Annotated[int, typer.Option("--stage1-steps", min=0, help="Stage 1: align the encoder and heads with the backbone.")] = 900,
    stage2_steps: Annotated[int, typer.Option("--stage2-steps", min=0, help="Stage 2: all tasks together with Slide-LoRA.")] = 900,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 32,
    lr: Annotated[float, typer.Option("--lr", help="Peak learning rate of both stages.")] = 1.5e-3,
    lora: Annotated[str, typer.Option("--lora", help="slide (text, image and shared experts), plain (one LoRA) or none.")] = "slide",
    routing: Annotated[str, typer.Option("--routing", help="learned (per-token gate) or task (by output modality).")] = "learned",
    tasks: Annotated[str, typer.Option("--tasks", help="Stage-2 task mix: all, text (reading tasks only) or image (picture tasks only).")] = "all",
    start_from: Annotated[Optional[Path], typer.Option("--start-from", help="Skip stage 1: start stage 2 from this stage-1 checkpoint folder.")] = None,
    eval_every: Annotated[int, typer.Option("--eval-every", min=1, help="Steps between held-out evaluations.")] = 300,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="Torch CPU threads.")] = None,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or cuda:N.")] = "cpu",
    bf16: Annotated[bool, typer.Option("--bf16", help="bfloat16 autocast (CUDA only).")] = False,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    paper_scale: Annotated[bool, typer.Option("--paper-scale", help="Print the paper-scale configurations' parameter counts (built on the meta device) and exit.")] = False,
) -> None:
    """Train the unified harmony network (vision encoder, LM backbone, Slide-LoRA, text and diffusion heads) on synthetic word images; the result loads with --model OUT/final.

    Examples:

      ocromni train --out runs/harmony --threads 2

      ocromni train --out runs/plain --start-from runs/harmony/stage1 --stage1-steps 0 --lora plain

      ocromni train --paper-scale
    """
    if paper_scale:
        from ocromni.models.harmony.scale import print_paper_scale

        print_paper_scale()
        return
    if out is None:
        raise typer.BadParameter("is required (where checkpoints go)", param_hint="--out")
    from ocromni.models.harmony.config import HarmonyConfig
    from ocromni.models.harmony.train import MIXES, TrainPlan, train as run_training

    if tasks not in MIXES or tasks == "stage1":
        raise typer.BadParameter(f"{tasks!r} is not one of all, text, image", param_hint="--tasks")
    config = HarmonyConfig(lora_mode=lora, routing=routing).validate()
    plan = TrainPlan(
        out=out, stage1_steps=stage1_steps, stage2_steps=stage2_steps, batch_size=batch_size, lr=lr, stage2_lr=lr,
        stage2_mix=tasks, eval_every=eval_every, seed=seed, threads=threads, device=device, bf16=bf16,
        start_from=start_from,
    )
    run_training(config, plan)
    print(str(out / "final"))
