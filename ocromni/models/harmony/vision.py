"""The vision encoder: a ViT in CLIP's layout over image patches.

Same parts as CLIP's vision tower (bias-free patch projection, class token, learned
positions, pre-LayerNorm, pre-norm transformer blocks, post-LayerNorm), so the
paper-scale configuration has exactly CLIP ViT-L/14's parameter count (see scale.py).
Patches may be rectangular: the tiny configuration reads 32x4 column strips of a word
image, one token per strip, left to right.

``stem="conv"`` is the ViT paper's *hybrid* variant (Dosovitskiy et al., section 3.1):
the patches are cut from a small CNN's feature map instead of the raw pixels. Trained
from scratch on a CPU budget, a linear patch projection has to learn every letter at
every height, size and sub-patch shift separately; two strided 3x3 convolutions give it
that shift tolerance for a few million multiply-adds per picture. Paper scale keeps
CLIP's linear patches (``stem="patch"``).
"""

from __future__ import annotations

import torch
from torch import nn


class VisionEncoder(nn.Module):
    def __init__(self, channels: int, patch: tuple[int, int], num_patches: int, hidden: int, layers: int, heads: int, mlp: int,
                 stem: str = "patch"):
        super().__init__()
        if stem == "conv":
            # Two stride-2 convolutions (a quarter of the resolution each way), then the
            # patch grid cut from their feature map: the same tokens as the linear stem.
            ph, pw = patch
            if ph % 4 or pw % 4:
                raise ValueError(f"the conv stem needs patch sides divisible by 4, got {patch}")
            width = max(32, hidden // 4)
            self.patch_embedding = nn.Sequential(
                nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.GELU(),
                nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.GELU(),
                nn.Conv2d(2 * width, hidden, kernel_size=(ph // 4, pw // 4), stride=(ph // 4, pw // 4), bias=False),
            )
        else:
            self.patch_embedding = nn.Conv2d(channels, hidden, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(hidden) * 0.02)
        self.position_embedding = nn.Embedding(num_patches + 1, hidden)
        # CLIP's scale: torch's default N(0, 1) would drown the patch content, whose
        # projection starts two orders of magnitude smaller, and stall training.
        nn.init.normal_(self.position_embedding.weight, std=0.02)
        self.pre_layernorm = nn.LayerNorm(hidden)
        block = nn.TransformerEncoderLayer(hidden, heads, mlp, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.post_layernorm = nn.LayerNorm(hidden)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``images`` (B, C, H, W) in [-1, 1] -> patch features (B, num_patches, hidden); the class token is dropped."""
        patches = self.patch_embedding(images).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(patches.shape[0], 1, -1).to(patches.dtype)
        tokens = torch.cat([cls, patches], dim=1) + self.position_embedding.weight.to(patches.dtype)
        tokens = self.blocks(self.pre_layernorm(tokens))
        return self.post_layernorm(tokens)[:, 1:]
