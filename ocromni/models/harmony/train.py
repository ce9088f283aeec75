"""Two-stage training of the harmony network on synthetic data, resumable, on CPU or GPU.

Stage 1 aligns the vision encoder and both heads with the backbone on reading and
rendering. A paper-scale run would keep a pretrained backbone frozen here; the tiny
network has no pretrained language model to start from (nothing may be downloaded), so
its backbone trains too (``train_backbone_in_stage1``). Stage 2 freezes the backbone's
base weights and trains Slide-LoRA (or the plain LoRA), the encoder and the heads on all
seven tasks together.

Layout of the output folder (every checkpoint a ``save_pretrained`` folder, no pickle)::

    OUT/checkpoint/         config.json, model.safetensors   latest state, for resuming
    OUT/checkpoint/optimizer.safetensors + trainer.json      optimizer moments, step, stage
    OUT/stage1/ OUT/final/  the network after each stage (load with from_pretrained)
    OUT/curves.json         losses and held-out metrics over steps
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch

from ocromni.models.harmony import data as synthetic
from ocromni.models.harmony.config import CheckpointError, HarmonyConfig
from ocromni.models.harmony.decoder import to_uint8_rgb
from ocromni.models.harmony.model import HarmonyNetwork
from ocromni.models.harmony.prompts import collate
from ocromni.models.harmony.slide_lora import lora_parameters

MIXES = {
    "stage1": synthetic.STAGE1_MIX,
    "all": synthetic.STAGE2_MIX,
    "text": synthetic.TEXT_ONLY_MIX,
    "image": synthetic.IMAGE_ONLY_MIX,
}


@dataclass
class TrainPlan:
    out: Path
    stage1_steps: int = 1500
    stage2_steps: int = 1500
    batch_size: int = 48
    lr: float = 1e-3
    stage2_lr: float = 1e-3
    # Stage 2 re-warms to its peak; the weights stage 1 already trained (encoder, heads,
    # embeddings) take this fraction of it, the fresh adapters all of it. At 1.0, 150
    # stage-2 steps knocked a stage-1 network from 78% reading / 98% rendering read-back
    # down to 56% / 8%; at 0.3 it kept 68% / 79% while the new tasks came in.
    stage2_trained_lr_scale: float = 0.3
    warmup: int = 100
    stage2_mix: str = "all"  # all | text | image (single-task ablations)
    eval_every: int = 250
    eval_recognition: int = 200
    eval_render: int = 48
    seed: int = 0
    threads: Optional[int] = None
    device: str = "cpu"
    bf16: bool = False  # autocast to bfloat16 on CUDA
    train_backbone_in_stage1: bool = True
    start_from: Optional[Path] = None  # skip stage 1 and start stage 2 from this stage-1 folder
    log: list = field(default_factory=list)


def log_line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- evaluation ---------------------------------------------------------------------------


_reader = None


def ppocr_reader():
    """PP-OCRv4, the independent reader that judges generated word pictures (loaded once)."""
    global _reader
    if _reader is None:
        from ocromni.models.ppocr import PPOCRModel

        _reader = PPOCRModel(device="cpu", threads=1)
    return _reader


def normalise_word(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def similarity(a: str, b: str) -> float:
    """1 - normalised edit distance of the normalised words (the field's NED score)."""
    from rapidfuzz.distance import Levenshtein

    return 1.0 - Levenshtein.normalized_distance(normalise_word(a), normalise_word(b))


def evaluate(network: HarmonyNetwork, recognition: int, render: int, samples_dir: Optional[Path] = None) -> dict:
    """Held-out word accuracy (reading) and PP-OCR exact read-back of rendered words."""
    network.eval()
    result = {}
    if recognition:
        tests = synthetic.test_set("recognize", recognition)
        answers = []
        for i in range(0, len(tests), 64):
            answers += network.generate_text(tests[i:i + 64])
        right = sum(normalise_word(a) == normalise_word(t.answer_text) for a, t in zip(answers, tests))
        result["word_accuracy"] = right / len(tests)
        result["reading_ned"] = sum(similarity(a, t.answer_text) for a, t in zip(answers, tests)) / len(tests)
    if render:
        tests = synthetic.test_set("render", render)
        images = []
        for i in range(0, len(tests), 64):
            images += to_uint8_rgb(network.generate_images(tests[i:i + 64]))
        readings = ppocr_reader().recognize_crops(images)
        right = sum(normalise_word(r.text) == normalise_word(t.prompt_text) for r, t in zip(readings, tests))
        result["render_readback"] = right / len(tests)
        result["render_ned"] = sum(similarity(r.text, t.prompt_text) for r, t in zip(readings, tests)) / len(tests)
        if samples_dir is not None:
            save_sample_sheet(images[:16], [t.prompt_text for t in tests[:16]], [r.text for r in readings[:16]],
                              samples_dir / "render_samples.png")
    network.train()
    return result


def save_sample_sheet(images, words, readings, path: Path) -> None:
    """Generated pictures, each captioned with the prompt word and what PP-OCR read."""
    from PIL import Image, ImageDraw

    h, w = images[0].shape[:2]
    sheet = Image.new("RGB", (w * 2 + 260, (h * 2 + 4) * len(images)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (image, word, reading) in enumerate(zip(images, words, readings)):
        y = i * (h * 2 + 4)
        sheet.paste(Image.fromarray(image).resize((w * 2, h * 2), Image.NEAREST), (0, y))
        mark = "ok" if normalise_word(reading) == normalise_word(word) else "x"
        draw.text((w * 2 + 8, y + h - 6), f"{word} -> {reading!r} {mark}", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


# --- optimizer state as safetensors ---------------------------------------------------------


def save_trainer_state(folder: Path, network, optimizer, state: dict) -> None:
    from safetensors.torch import save_file

    names = {id(p): n for n, p in network.named_parameters()}
    tensors = {}
    for group in optimizer.param_groups:
        for param in group["params"]:
            for key, value in optimizer.state.get(param, {}).items():
                if isinstance(value, torch.Tensor):
                    tensors[f"{names[id(param)]}::{key}"] = value.detach().contiguous().cpu()
    tmp = folder / "optimizer.safetensors.tmp"
    save_file(tensors, str(tmp))
    tmp.replace(folder / "optimizer.safetensors")
    (folder / "trainer.json.tmp").write_text(json.dumps(state, indent=1))
    (folder / "trainer.json.tmp").replace(folder / "trainer.json")


def load_trainer_state(folder: Path, network, optimizer) -> dict:
    from safetensors.torch import load_file

    tensors = load_file(str(folder / "optimizer.safetensors"))
    params = dict(network.named_parameters())
    for key, value in tensors.items():
        name, slot = key.split("::")
        if name in params:
            optimizer.state[params[name]][slot] = value.to(params[name].device)
    return json.loads((folder / "trainer.json").read_text())


# --- the loop -------------------------------------------------------------------------------


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def make_optimizer(network, lr, trained_lr_scale: float = 1.0):
    """AdamW over the trainable weights; adapters in their own group at the full rate."""
    adapters = {id(p) for p in lora_parameters(network)}
    trainable = [p for p in network.parameters() if p.requires_grad]
    groups = [{"params": [p for p in trainable if id(p) in adapters], "lr_scale": 1.0},
              {"params": [p for p in trainable if id(p) not in adapters], "lr_scale": trained_lr_scale}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, weight_decay=0.01, betas=(0.9, 0.98))


def run_stage(network, plan: TrainPlan, stage: int, curves: list, start_step: int = 0, optimizer=None,
              clock_offset: float = 0.0) -> None:
    steps = plan.stage1_steps if stage == 1 else plan.stage2_steps
    mix = MIXES["stage1"] if stage == 1 else MIXES[plan.stage2_mix]
    peak = plan.lr if stage == 1 else plan.stage2_lr
    network.set_stage(stage, plan.train_backbone_in_stage1)
    if optimizer is None:
        optimizer = make_optimizer(network, peak, plan.stage2_trained_lr_scale if stage == 2 else 1.0)
    tasks = synthetic.SyntheticTasks(seed=plan.seed * 1000 + stage * 100 + start_step)
    device = torch.device(plan.device)
    config = network.config
    started = time.time() - clock_offset
    network.train()
    for step in range(start_step, steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, peak, plan.warmup) * group["lr_scale"]
        batch = collate(tasks.batch(plan.batch_size, mix), config.patches_per_image, config.max_text_tokens,
                        input_patches=config.vision_tokens).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=plan.bf16 and device.type == "cuda"):
            losses = network(batch)
        optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_([p for p in network.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        done = step + 1
        if done % 25 == 0 or done == steps:
            entry = {"stage": stage, "step": done, "seconds": round(time.time() - started, 1),
                     **{k: round(float(v.detach()), 4) for k, v in losses.items()}}
            curves.append(entry)
            log_line(json.dumps(entry))
        last = done == steps
        if done % plan.eval_every == 0 or last:
            metrics = evaluate(network, plan.eval_recognition if stage == 2 or last else plan.eval_recognition // 2,
                               plan.eval_render if last else plan.eval_render // 2,
                               samples_dir=plan.out / "samples" if last else None)
            entry = {"stage": stage, "step": done, "seconds": round(time.time() - started, 1), "eval": metrics}
            curves.append(entry)
            log_line(json.dumps(entry))
            checkpoint = plan.out / "checkpoint"
            network.save_pretrained(checkpoint)
            save_trainer_state(checkpoint, network, optimizer,
                               {"stage": stage, "step": done, "seconds": time.time() - started,
                                "plan": {k: str(v) for k, v in plan.__dict__.items() if k != "log"}})
            write_curves(plan.out, curves)
    network.save_pretrained(plan.out / ("stage1" if stage == 1 else "final"))


def write_curves(out: Path, curves: list) -> None:
    tmp = out / "curves.json.tmp"
    tmp.write_text(json.dumps(curves, indent=1))
    tmp.replace(out / "curves.json")


def train(config: HarmonyConfig, plan: TrainPlan) -> HarmonyNetwork:
    """Run (or resume) both stages; returns the trained network."""
    if plan.threads:
        torch.set_num_threads(plan.threads)
    torch.manual_seed(plan.seed)
    plan.out.mkdir(parents=True, exist_ok=True)
    curves_path = plan.out / "curves.json"
    curves = json.loads(curves_path.read_text()) if curves_path.is_file() else []
    checkpoint = plan.out / "checkpoint"

    stage, step, optimizer, offset = 1, 0, None, 0.0
    if (checkpoint / "trainer.json").is_file():
        network = HarmonyNetwork.from_pretrained(checkpoint, device=plan.device).train()
        state = json.loads((checkpoint / "trainer.json").read_text())
        stage, step = state["stage"], state["step"]
        network.set_stage(stage, plan.train_backbone_in_stage1)
        optimizer = make_optimizer(network, plan.lr, plan.stage2_trained_lr_scale if stage == 2 else 1.0)
        load_trainer_state(checkpoint, network, optimizer)
        offset = state.get("seconds", 0.0)
        curves = [c for c in curves if (c["stage"], c["step"]) <= (stage, step)]
        log_line(f"resuming stage {stage} at step {step} from {checkpoint}")
        if step >= (plan.stage1_steps if stage == 1 else plan.stage2_steps):
            if stage == 1:
                network.save_pretrained(plan.out / "stage1")
            stage, step, optimizer, offset = stage + 1, 0, None, 0.0
    elif plan.start_from is not None:
        network = HarmonyNetwork.from_pretrained(plan.start_from, device=plan.device).train()
        if network.config.to_dict() != config.to_dict():
            network = _with_config(network, config, plan.device)
        stage = 2
    else:
        network = HarmonyNetwork(config).to(plan.device)

    if stage == 1:
        run_stage(network, plan, 1, curves, step, optimizer, offset)
        stage, step, optimizer, offset = 2, 0, None, 0.0
    if stage == 2 and step < plan.stage2_steps:
        run_stage(network, plan, 2, curves, step, optimizer, offset)
    write_curves(plan.out, curves)
    return network


def _with_config(network: HarmonyNetwork, config: HarmonyConfig, device) -> HarmonyNetwork:
    """A network of ``config`` (e.g. another LoRA mode) holding every matching weight of ``network``."""
    fresh = HarmonyNetwork(config).to(device)
    own = fresh.state_dict()
    matching = {k: v for k, v in network.state_dict().items() if k in own and own[k].shape == v.shape}
    if not any(k.startswith("backbone.") for k in matching):
        raise CheckpointError(reason="the stage-1 checkpoint shares no backbone weights with this config")
    fresh.load_state_dict(matching, strict=False)
    return fresh.train()
