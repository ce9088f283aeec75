"""Learning-curve plots (PIL only; matplotlib is not a dependency) for a training run.

    python -m ocromni.models.harmony.report RUN_DIR docs/harmony

writes ``learning_curves.png`` (losses per step, held-out metrics per evaluation) and
copies ``curves.json`` and the latest render samples next to it.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS = {"text": (31, 119, 180), "image": (214, 39, 40), "ctc": (44, 160, 44), "gate": (148, 103, 189),
           "word_accuracy": (31, 119, 180), "render_readback": (214, 39, 40)}


def _panel(draw, box, series: dict, title: str, y_max: float, x_max: float, stage_break) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline="black")
    draw.text((x0 + 4, y0 - 14), title, fill="black")
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y1 - frac * (y1 - y0)
        draw.line((x0 - 3, y, x0, y), fill="black")
        draw.text((x0 - 40, y - 6), f"{frac * y_max:.2g}", fill="black")
    for frac in (0.0, 0.5, 1.0):
        x = x0 + frac * (x1 - x0)
        draw.text((x - 10, y1 + 4), f"{int(frac * x_max)}", fill="black")
    if stage_break:
        xb = x0 + stage_break / x_max * (x1 - x0)
        draw.line((xb, y0, xb, y1), fill=(160, 160, 160))
        draw.text((xb + 3, y0 + 3), "stage 2", fill=(120, 120, 120))
    legend_y = y0 + 4
    for name, points in series.items():
        if not points:
            continue
        colour = COLOURS.get(name, (0, 0, 0))
        xy = [(x0 + x / x_max * (x1 - x0), y1 - min(v, y_max) / y_max * (y1 - y0)) for x, v in points]
        if len(xy) > 1:
            draw.line(xy, fill=colour, width=2)
        for px, py in xy if len(xy) < 30 else []:
            draw.ellipse((px - 2, py - 2, px + 2, py + 2), fill=colour)
        draw.text((x1 - 120, legend_y), name, fill=colour)
        legend_y += 12


def plot_curves(curves: list[dict], path: Path) -> None:
    stage1_steps = max((c["step"] for c in curves if c["stage"] == 1), default=0)

    def x_of(c):
        return c["step"] + (stage1_steps if c["stage"] == 2 else 0)

    losses = {k: [(x_of(c), c[k]) for c in curves if k in c] for k in ("text", "image", "ctc")}
    metrics = {k: [(x_of(c), c["eval"][k]) for c in curves if "eval" in c and k in c["eval"]]
               for k in ("word_accuracy", "render_readback")}
    x_max = max([x_of(c) for c in curves] + [1])
    y_loss = max([v for pts in losses.values() for _, v in pts[len(pts) // 10:]] + [0.1])
    image = Image.new("RGB", (900, 620), "white")
    draw = ImageDraw.Draw(image)
    _panel(draw, (70, 30, 870, 280), losses, "training losses (text CE, image x0-MSE, encoder CTC) vs step",
           y_loss, x_max, stage1_steps if any(c["stage"] == 2 for c in curves) else None)
    _panel(draw, (70, 340, 870, 590), metrics,
           "held-out: word accuracy (reading), PP-OCR exact read-back (rendering) vs step", 1.0, x_max,
           stage1_steps if any(c["stage"] == 2 for c in curves) else None)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def main(argv=None) -> None:
    argv = argv or sys.argv[1:]
    run, docs = Path(argv[0]), Path(argv[1])
    curves = json.loads((run / "curves.json").read_text())
    docs.mkdir(parents=True, exist_ok=True)
    plot_curves(curves, docs / "learning_curves.png")
    shutil.copy(run / "curves.json", docs / "curves.json")
    sample = run / "samples" / "render_samples.png"
    if sample.is_file():
        shutil.copy(sample, docs / "render_samples.png")
    print(docs / "learning_curves.png")


if __name__ == "__main__":
    main()
