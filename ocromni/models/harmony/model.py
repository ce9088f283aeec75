"""HarmonyNetwork: one network that reads and writes visual text (TextHarmony / Orthus style).

Reading top to bottom, a sequence flows through:

1. **Vision encoder** (vision.py) — a ViT in CLIP's layout (tiny: with the ViT paper's
   hybrid conv stem) turns an input picture into one feature per patch; adjacent features
   are concatenated in groups of ``vision_merge`` (Qwen2-VL's patch merger) and an MLP
   projector maps them into the backbone's width.
2. **Backbone** (backbone.py) — a decoder-only transformers model (``LlamaModel`` or
   ``Qwen2Model``; tiny by config for this CPU, 7B/13B in scale.py) reads the interleaved
   sequence of prompts.py: text tokens, input-image tokens, and the output picture's
   patches so far (embedded by a linear patch embedding, causal by construction). Text
   tokens carry a character-index embedding; for ``render`` answers, whose targets hold
   prompt letter k in patch column k + 1, the position that predicts that column carries
   index k too and, with ``glyph_conditioning``, the letter's own token embedding.
3. **Slide-LoRA** (slide_lora.py) — text, image and shared low-rank experts on every
   attention and MLP projection of the backbone, mixed per token by a learned gate (or by
   task; or one plain LoRA for comparison).
4. **Text head** (heads.py) — next-token logits over character tokens.
5. **Image head** (heads.py) — a per-token diffusion head that denoises the next image patch
   conditioned on the backbone's hidden state, with diffusers' DDPM (training) and DDIM
   (sampling) schedulers; decoder.py turns patches back into pixels.

**Which paper's image head, and why.** We follow **Orthus**: a light diffusion head per
token on *continuous* image features, with the backbone itself modelling the image
autoregressively, instead of TextHarmony's approach of conditioning a separate
Stable-Diffusion U-Net on the language model's output. Orthus's variant keeps all the
image knowledge inside the one shared backbone — which is what Slide-LoRA is meant to
protect, so the ablation tests the claim where it matters — and it is the only one that
trains from scratch in minutes on two CPU cores (a U-Net decoder would dominate the
budget and hide the backbone's contribution). The features are raw pixel patches rather
than VAE latents because the pictures are 32x128 word images (see decoder.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

from ocromni.models.harmony import prompts
from ocromni.models.harmony.backbone import build_backbone
from ocromni.models.harmony.config import CheckpointError, HarmonyConfig
from ocromni.models.harmony.decoder import PixelPatchCodec
from ocromni.models.harmony.heads import DiffusionHead, TextHead
from ocromni.models.harmony.prompts import KIND_IMAGE_IN, KIND_PATCH_OUT, Batch, Sample
from ocromni.models.harmony.slide_lora import Router, add_lora, lora_parameters
from ocromni.models.harmony.vision import VisionEncoder

WEIGHTS_FILE = "model.safetensors"


class HarmonyNetwork(nn.Module):
    def __init__(self, config: HarmonyConfig):
        super().__init__()
        config.validate()
        self.config = config
        vocab = config.vocab_size or len(prompts.VOCAB)
        patches = config.patches_per_image

        # 1. vision encoder + projector
        vision_channels, vision_patch, vision_tokens = config.vision_geometry
        self.vision = VisionEncoder(
            vision_channels, vision_patch, vision_tokens, config.vision_hidden, config.vision_layers, config.vision_heads, config.vision_mlp,
            config.vision_stem,
        )
        self.vision_ctc = nn.Linear(config.vision_hidden, vocab) if config.vision_ctc_weight > 0 else None
        self.projector = nn.Sequential(
            nn.Linear(config.vision_hidden * config.vision_merge, config.hidden), nn.GELU(),
            nn.Linear(config.hidden, config.hidden),
        )
        # Output patches re-enter the backbone through their own embedding: a ViT would let
        # a patch's feature see the patches after it and break autoregressive generation.
        self.patch_embedding = nn.Linear(config.patch_dim, config.hidden)
        self.patch_position = nn.Embedding(patches, config.hidden)
        # Which letter of the prompt or answer a text token is (see prompts.sequence_of).
        self.char_position = nn.Embedding(2 * config.max_text_tokens + 2, config.hidden)
        for table in (self.patch_position, self.char_position):  # the token embeddings' scale, not N(0, 1)
            nn.init.normal_(table.weight, std=0.02)

        # 2 + 3. backbone with Slide-LoRA on its projections
        self.backbone = build_backbone(config, vocab)
        self.router = Router(config.routing)
        add_lora(self.backbone, config.lora_targets, config.lora_mode, config.lora_rank, config.lora_alpha, self.router)

        # 4 + 5. heads and the pixel codec
        self.text_head = TextHead(config.hidden, vocab)
        self.image_head = DiffusionHead(config.patch_dim, config.hidden, config.head_width, config.head_depth,
                                        config.diffusion_train_steps)
        self.codec = PixelPatchCodec(config.image_channels, config.image_height, config.image_width,
                                     config.patch_height, config.patch_width)

    # --- the sequence -----------------------------------------------------------------------

    def embed(self, batch: Batch, output_patches: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Input embeddings (B, L, hidden): text tokens, encoded input pictures, output patches so far.

        ``output_patches`` (n_out, k, patch_dim) are the patches already known for each
        image-answer sample (teacher forcing in training, generated ones when sampling).
        """
        token_embedding = self.backbone.get_input_embeddings()
        embeds = token_embedding(batch.ids)
        in_mask = batch.kinds == KIND_IMAGE_IN
        self._vision_features = None
        if in_mask.any():
            self._vision_features = self.vision(batch.input_images.to(embeds.dtype))
            n, tokens, width = self._vision_features.shape
            merged = self._vision_features.reshape(n, tokens // self.config.vision_merge, width * self.config.vision_merge)
            features = self.projector(merged)
            embeds = embeds.masked_scatter(in_mask[..., None], features.reshape(-1, features.shape[-1]))
        out_mask = batch.kinds == KIND_PATCH_OUT
        if out_mask.any():
            k = output_patches.shape[1]
            patch_embeds = self.patch_embedding(output_patches.to(embeds.dtype)) + self.patch_position.weight[:k]
            embeds = embeds.masked_scatter(out_mask[..., None], patch_embeds.reshape(-1, patch_embeds.shape[-1]))
        # After the patches are in place, so that output patch positions keep their index too.
        has_char = (batch.char_index >= 0)[..., None].to(embeds.dtype)
        embeds = embeds + self.char_position(batch.char_index.clamp(min=0)) * has_char
        if self.config.glyph_conditioning:
            embeds = embeds + token_embedding(self.glyph_ids(batch)) * (batch.kinds == KIND_PATCH_OUT)[..., None]
        return embeds

    def glyph_ids(self, batch: Batch) -> torch.Tensor:
        """(B, L) for each output-patch position, the prompt letter its next patch shows (PAD for none).

        The letter is found by the position's character index among the prompt's
        letters, so it is defined for render answers (prompts.patch_char_index) only.
        """
        max_text = self.config.max_text_tokens
        is_prompt_letter = (batch.kinds == prompts.KIND_TEXT) & (batch.char_index >= 0) & (batch.char_index < max_text)
        letters = torch.full((batch.ids.shape[0], max_text + 1), prompts.PAD, dtype=batch.ids.dtype, device=batch.ids.device)
        slot = torch.where(is_prompt_letter, batch.char_index, max_text)  # everything else lands in a spare slot
        letters.scatter_(1, slot, torch.where(is_prompt_letter, batch.ids, prompts.PAD))
        letters[:, max_text] = prompts.PAD
        wanted = torch.where((batch.kinds == KIND_PATCH_OUT) & (batch.char_index >= 0), batch.char_index, max_text)
        return letters.gather(1, wanted)

    def task_gate(self, batch: Batch) -> torch.Tensor:
        """(B, L, 2) text/image expert weights when routing by task: the answer's modality."""
        image = batch.output_modality.float()[:, None, None].expand(-1, batch.ids.shape[1], 1)
        return torch.cat([1 - image, image], dim=-1)

    def hidden_states(self, batch: Batch, output_patches=None, record_gates: bool = False) -> torch.Tensor:
        self.router.reset(task_gate=self.task_gate(batch), record=record_gates)
        out = self.backbone(
            inputs_embeds=self.embed(batch, output_patches),
            attention_mask=batch.attention_mask,
            position_ids=batch.position_ids,
            use_cache=False,
        )
        return out.last_hidden_state

    # --- training ---------------------------------------------------------------------------

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Losses for one teacher-forced batch: text CE, patch diffusion MSE, gate supervision."""
        targets = None
        if batch.output_images is not None:
            targets = self.codec.encode(batch.output_images)
        record = (self.config.lora_mode == "slide" and self.config.routing == "learned" and self.config.gate_supervision > 0
                  and self.router.enabled)
        hidden = self.hidden_states(batch, targets[:, :-1] if targets is not None else None, record_gates=record)
        zero = hidden.sum() * 0.0
        losses = {"text": zero, "image": zero, "gate": zero, "ctc": zero}
        if self.vision_ctc is not None and self._vision_features is not None and batch.input_texts:
            losses["ctc"] = self.reading_ctc_loss(self._vision_features, batch.input_texts)
        text_mask = batch.text_labels != -100
        if text_mask.any():
            logits = self.text_head(hidden[text_mask]).float()
            losses["text"] = F.cross_entropy(logits, batch.text_labels[text_mask])
        if targets is not None:
            conditions = hidden[batch.patch_targets]
            losses["image"] = self.image_head.loss(conditions, targets.reshape(-1, targets.shape[-1]),
                                                   self.config.diffusion_batch_mul)
        if record and self.router.gates:
            # Each token's gate is told which modality that token produces: patches for
            # positions that predict a patch, text everywhere else.
            wanted = batch.patch_targets.float()[batch.attention_mask.bool()]
            image_share = torch.stack([g[..., 1][batch.attention_mask.bool()] for g in self.router.gates])
            losses["gate"] = F.binary_cross_entropy(image_share.clamp(1e-6, 1 - 1e-6), wanted.expand_as(image_share))
        losses["total"] = (losses["text"] + self.config.image_loss_weight * losses["image"]
                           + self.config.gate_supervision * losses["gate"]
                           + self.config.vision_ctc_weight * losses["ctc"])
        return losses

    def reading_ctc_loss(self, features: torch.Tensor, texts: list[list[int]]) -> torch.Tensor:
        """CTC of the encoder's per-patch character guesses against the known text (blank = <pad>)."""
        rows = [i for i, t in enumerate(texts) if t]
        if not rows:
            return features.sum() * 0.0
        log_probs = F.log_softmax(self.vision_ctc(features[rows]).float(), dim=-1).transpose(0, 1)
        targets = torch.tensor([c for i in rows for c in texts[i]], device=features.device)
        target_lengths = torch.tensor([len(texts[i]) for i in rows], device=features.device)
        input_lengths = torch.full((len(rows),), log_probs.shape[0], dtype=torch.long, device=features.device)
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=prompts.PAD, zero_infinity=True)

    # --- inference --------------------------------------------------------------------------

    @torch.inference_mode()
    def generate_text(self, samples: list[Sample], max_new_tokens: Optional[int] = None) -> list[str]:
        """Greedy text answers for text-answer samples (prompt only; answers are ignored)."""
        device = self.device
        max_new_tokens = max_new_tokens or self.config.max_text_tokens + 1
        batch = prompts.collate(samples, self.config.patches_per_image, self.config.max_text_tokens, with_answer=False,
                                input_patches=self.config.vision_tokens)
        batch = batch.to(device)
        generated = torch.full((len(samples), 0), prompts.PAD, dtype=torch.long, device=device)
        done = torch.zeros(len(samples), dtype=torch.bool, device=device)
        for _ in range(max_new_tokens):
            hidden = self.hidden_states(batch)
            next_ids = self.text_head(hidden[:, -1]).argmax(-1)
            next_ids = torch.where(done, torch.full_like(next_ids, prompts.EOS), next_ids)
            char = prompts.answer_char_index(generated.shape[1], self.config.max_text_tokens)
            generated = torch.cat([generated, next_ids[:, None]], dim=1)
            done |= next_ids == prompts.EOS
            if bool(done.all()):
                break
            batch = _append(batch, next_ids, prompts.KIND_TEXT, char)
        return [prompts.decode_text(row) for row in generated.tolist()]

    @torch.inference_mode()
    def generate_images(self, samples: list[Sample], steps: Optional[int] = None, seed: int = 0) -> torch.Tensor:
        """Pictures (B, C, H, W) in [-1, 1] for image-answer samples, one patch at a time."""
        device = self.device
        steps = steps or self.config.diffusion_sample_steps
        generator = torch.Generator().manual_seed(seed)
        batch = prompts.collate(samples, self.config.patches_per_image, self.config.max_text_tokens, with_answer=False,
                                input_patches=self.config.vision_tokens)
        batch = batch.to(device)
        patches = []
        is_render = torch.tensor([s.task == "render" for s in samples], device=device)
        for k in range(self.config.patches_per_image):
            known = torch.stack(patches, dim=1) if patches else None
            hidden = self.hidden_states(batch, known)
            patch = self.image_head.sample(hidden[:, -1], self.config.patch_dim, steps, generator)
            patches.append(patch)
            if k + 1 < self.config.patches_per_image:
                char = torch.where(is_render, prompts.patch_char_index("render", k + 1, self.config.max_text_tokens), -1)
                batch = _append(batch, torch.full_like(batch.ids[:, 0], prompts.PAD), KIND_PATCH_OUT, char)
        return self.codec.decode(torch.stack(patches, dim=1))

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # --- stages -----------------------------------------------------------------------------

    def set_stage(self, stage: int, train_backbone_in_stage1: bool = True) -> None:
        """Which parameters train: stage 1 aligns encoder and heads (and, from scratch, the
        backbone); stage 2 freezes the backbone's base weights and trains Slide-LoRA with
        the encoder and heads on all tasks."""
        for param in self.parameters():
            param.requires_grad = True
        self.router.enabled = stage != 1
        if stage == 1:
            for param in lora_parameters(self.backbone):
                param.requires_grad = False
            if not train_backbone_in_stage1:
                for param in self.backbone.parameters():
                    param.requires_grad = False
        elif stage == 2 and self.config.lora_mode != "none":
            lora = {id(p) for p in lora_parameters(self.backbone)}
            embeddings = {id(p) for p in self.backbone.get_input_embeddings().parameters()}
            for param in self.backbone.parameters():
                param.requires_grad = id(param) in lora or id(param) in embeddings

    # --- checkpoints ------------------------------------------------------------------------

    def save_pretrained(self, folder, extra: Optional[dict] = None) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (no pickle) into ``folder``, atomically per file."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.config.save(folder)
        tensors = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        tmp = folder / (WEIGHTS_FILE + ".tmp")
        save_file(tensors, str(tmp), metadata={"format": "pt", **{k: json.dumps(v) for k, v in (extra or {}).items()}})
        tmp.replace(folder / WEIGHTS_FILE)
        return folder

    @classmethod
    def from_pretrained(cls, folder, device: str = "cpu", dtype: Optional[torch.dtype] = None) -> "HarmonyNetwork":
        """Load a folder written by ``save_pretrained``; a missing or mismatched checkpoint is a CheckpointError."""
        from safetensors.torch import load_file

        folder = Path(folder)
        if not folder.is_dir():
            raise CheckpointError(path=str(folder), reason="no such checkpoint folder")
        config = HarmonyConfig.load(folder)
        weights = folder / WEIGHTS_FILE
        if not weights.is_file():
            raise CheckpointError(path=str(folder), reason=f"no {WEIGHTS_FILE} in the folder")
        network = cls(config)
        try:
            state = load_file(str(weights))
        except Exception as error:  # safetensors raises its own error types for corrupt headers
            raise CheckpointError(path=str(weights), reason=f"unreadable weights ({error})") from None
        expected = network.state_dict()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
        if missing or unexpected or wrong:
            parts = []
            if missing:
                parts.append(f"{len(missing)} weights missing (e.g. {missing[0]})")
            if unexpected:
                parts.append(f"{len(unexpected)} unexpected weights (e.g. {unexpected[0]})")
            if wrong:
                k = wrong[0]
                parts.append(f"{len(wrong)} weights of the wrong shape (e.g. {k}: {tuple(state[k].shape)} "
                             f"in the file, {tuple(expected[k].shape)} for config.json)")
            raise CheckpointError(path=str(folder), reason="weights do not match config.json: " + "; ".join(parts))
        network.load_state_dict(state)
        network.to(device=device, dtype=dtype) if dtype is not None else network.to(device)
        return network.eval()


def _append(batch: Batch, ids: torch.Tensor, kind: int, char_index=-1) -> Batch:
    """The batch with one more position at the end of every sequence (``char_index``: int or (B,))."""
    ones = torch.ones_like(ids)
    char_index = torch.as_tensor(char_index, device=ids.device).expand_as(ids)
    return Batch(
        ids=torch.cat([batch.ids, ids[:, None]], 1),
        kinds=torch.cat([batch.kinds, torch.full_like(ids, kind)[:, None]], 1),
        attention_mask=torch.cat([batch.attention_mask, ones[:, None]], 1),
        char_index=torch.cat([batch.char_index, char_index.to(ids.dtype)[:, None]], 1),
        input_images=batch.input_images, output_images=batch.output_images,
        text_labels=torch.cat([batch.text_labels, torch.full_like(ids, -100)[:, None]], 1),
        patch_targets=torch.cat([batch.patch_targets, torch.zeros_like(ids, dtype=torch.bool)[:, None]], 1),
        output_modality=batch.output_modality, tasks=batch.tasks,
    )


def count_parameters(module: nn.Module) -> dict[str, int]:
    """Parameters per top-level part and in total (works on the meta device)."""
    counts = {name: sum(p.numel() for p in child.parameters()) for name, child in module.named_children()}
    counts["lora"] = sum(p.numel() for p in lora_parameters(module))
    counts["total"] = sum(p.numel() for p in module.parameters())
    return counts
