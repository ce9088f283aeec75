"""HarmonyConfig: every size and switch of the unified network, saved as config.json."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from ocromni.errors import ModelError


class CheckpointError(ModelError):
    """A harmony checkpoint folder is missing, incomplete or does not match its config."""

    message = "not a usable harmony checkpoint: {reason}"


LORA_MODES = ("slide", "plain", "none")
ROUTINGS = ("learned", "task")
BACKBONES = ("llama", "qwen2")
VISION_STEMS = ("patch", "conv")


@dataclass
class HarmonyConfig:
    # --- images: grey (or RGB) pictures cut into full-height column patches --------------
    image_height: int = 32
    image_width: int = 128
    image_channels: int = 1
    patch_height: int = 32
    patch_width: int = 8

    # --- vision encoder (ViT, CLIP layout); its picture geometry, 0 = the same as above ----
    vision_image_height: int = 0
    vision_image_width: int = 0
    vision_channels: int = 0
    vision_patch: int = 0  # square patches of this side; 0 = the image patches above, cut into vision_merge strips
    # Adjacent encoder tokens concatenated into one backbone token (Qwen2-VL's patch merger).
    # With 2 the tiny encoder reads 32x4 columns, a CRNN's stride: a letter spans 2-3 of
    # them, so its CTC head can place every letter (8-px columns straddled two letters
    # each and the head read only 32% of held-out words), while the backbone still gets
    # one token per 8-px image patch.
    vision_merge: int = 2
    # conv: the ViT paper's hybrid stem (vision.py); with it and vision_merge=2 the encoder's
    # CTC loss fell to 1.3 in 525 steps where the linear 8-px patches needed 1,000.
    vision_stem: str = "conv"  # patch: CLIP's linear patch projection
    vision_hidden: int = 128
    vision_layers: int = 2
    vision_heads: int = 4
    vision_mlp: int = 256
    # Auxiliary CTC loss on the encoder's patch features for pictures whose text is known:
    # it aligns the encoder with characters in a few hundred steps, where the backbone
    # alone sat on a language-model plateau (text loss ~2.2 nats after 400 steps).
    vision_ctc_weight: float = 0.5

    # --- backbone (a transformers decoder-only model class) -----------------------------
    backbone: str = "llama"
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    kv_heads: int = 4
    intermediate: int = 384
    max_positions: int = 256
    vocab_size: int = 0  # 0: the size of prompts.VOCAB (char-level tokens); paper scale sets 32000

    # --- Slide-LoRA ---------------------------------------------------------------------
    lora_mode: str = "slide"  # slide: text + image + shared experts; plain: one LoRA; none
    lora_rank: int = 8  # per expert; plain LoRA gets 3x this rank, the same parameter budget
    lora_alpha: float = 16.0
    routing: str = "learned"  # learned: a per-token gate in every adapted projection; task: by output modality
    gate_supervision: float = 0.05  # weight of the auxiliary loss that tells the gate each token's output modality
    lora_targets: tuple = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

    # --- image head: per-token diffusion (Orthus / MAR style) ---------------------------
    head_width: int = 256
    head_depth: int = 2
    diffusion_train_steps: int = 1000
    diffusion_sample_steps: int = 10
    # The patch MSE is ~0.01 once glyph shapes are learned while the text CE is ~0.5; at
    # weight 1 the rendering head drew crisp letters that ignored the prompt (0% read-back
    # after 1400 steps), so the image loss is scaled to weigh as much as the text loss.
    image_loss_weight: float = 10.0
    diffusion_batch_mul: int = 2  # noise levels drawn per target patch in one training step

    # Render answers: each output-patch position also gets the embedding of the prompt
    # letter its next patch shows (known from the fixed-pitch layout, prompts.patch_char_index),
    # the way TextDiffuser and AnyText hand their image models a character layout. Without
    # it the from-scratch backbone has to discover copying letter k from the prompt by
    # attention; in the first 3,600-step run it never did past the first one or two letters.
    glyph_conditioning: bool = True

    max_text_tokens: int = 24

    @property
    def patches_per_image(self) -> int:
        return (self.image_height // self.patch_height) * (self.image_width // self.patch_width)

    @property
    def vision_geometry(self) -> tuple[int, tuple[int, int], int]:
        """(channels, (patch height, patch width), patches per picture) of the vision encoder's input."""
        if not self.vision_patch:
            return (self.image_channels, (self.patch_height, self.patch_width // self.vision_merge),
                    self.patches_per_image * self.vision_merge)
        h = self.vision_image_height or self.image_height
        w = self.vision_image_width or self.image_width
        return self.vision_channels or self.image_channels, (self.vision_patch, self.vision_patch), \
            (h // self.vision_patch) * (w // self.vision_patch)

    @property
    def vision_tokens(self) -> int:
        """Backbone tokens per input picture: the encoder's patches after merging."""
        return self.vision_geometry[2] // self.vision_merge

    @property
    def patch_dim(self) -> int:
        return self.patch_height * self.patch_width * self.image_channels

    def validate(self) -> "HarmonyConfig":
        problems = []
        if self.image_height % self.patch_height or self.image_width % self.patch_width:
            problems.append("image size must be a multiple of the patch size")
        if self.vision_merge < 1 or (not self.vision_patch and self.patch_width % self.vision_merge) \
                or self.vision_geometry[2] % self.vision_merge:
            problems.append("vision_merge must divide the patch width and the encoder's patch count")
        if self.vision_stem not in VISION_STEMS:
            problems.append(f"vision_stem must be one of {VISION_STEMS}")
        if self.lora_mode not in LORA_MODES:
            problems.append(f"lora_mode must be one of {LORA_MODES}")
        if self.routing not in ROUTINGS:
            problems.append(f"routing must be one of {ROUTINGS}")
        if self.backbone not in BACKBONES:
            problems.append(f"backbone must be one of {BACKBONES}")
        if self.hidden % self.heads or self.heads % self.kv_heads:
            problems.append("hidden must divide by heads and heads by kv_heads")
        if problems:
            raise CheckpointError(reason="; ".join(problems))
        return self

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["lora_targets"] = list(self.lora_targets)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "HarmonyConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known - {"model_type", "format_version"})
        if unknown:
            raise CheckpointError(reason=f"config.json has unknown fields {unknown}")
        values = {k: v for k, v in data.items() if k in known}
        # Configs written before these switches existed had none of them.
        values.setdefault("vision_merge", 1)
        values.setdefault("glyph_conditioning", False)
        values.setdefault("vision_stem", "patch")
        if "lora_targets" in values:
            values["lora_targets"] = tuple(values["lora_targets"])
        return cls(**values).validate()

    def save(self, folder: Path) -> None:
        data = {"model_type": "ocromni-harmony", "format_version": 1, **self.to_dict()}
        (Path(folder) / "config.json").write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> "HarmonyConfig":
        path = Path(folder) / "config.json"
        if not path.is_file():
            raise CheckpointError(path=str(folder), reason="no config.json in the folder")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise CheckpointError(path=str(path), reason=f"config.json is not JSON ({error})") from None
        if data.get("model_type") != "ocromni-harmony":
            raise CheckpointError(path=str(path), reason="config.json is not an ocromni-harmony config")
        return cls.from_dict(data)
