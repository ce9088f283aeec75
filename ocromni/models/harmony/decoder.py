"""Pixel-patch codec: images <-> sequences of flat patches, the image head's output space.

The tiny network generates pixels directly, so its "autoencoder" is exact and has no
weights: a patch is its pixels in [-1, 1], and decoding is reassembly plus clamping. (At
paper scale the same head would generate VAE latents and a diffusers AutoencoderKL would
decode them — see scale.py.)
"""

from __future__ import annotations

import numpy as np
import torch


class PixelPatchCodec:
    def __init__(self, channels: int, height: int, width: int, patch_height: int, patch_width: int):
        self.channels, self.height, self.width = channels, height, width
        self.ph, self.pw = patch_height, patch_width
        self.rows, self.cols = height // patch_height, width // patch_width

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, N, C*ph*pw), patches row-major (left to right for one row)."""
        b = images.shape[0]
        x = images.reshape(b, self.channels, self.rows, self.ph, self.cols, self.pw)
        return x.permute(0, 2, 4, 1, 3, 5).reshape(b, self.rows * self.cols, -1)

    def decode(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, N, C*ph*pw) -> (B, C, H, W), clamped to [-1, 1]."""
        b = patches.shape[0]
        x = patches.reshape(b, self.rows, self.cols, self.channels, self.ph, self.pw)
        return x.permute(0, 3, 1, 4, 2, 5).reshape(b, self.channels, self.height, self.width).clamp(-1, 1)


def to_uint8_rgb(images: torch.Tensor) -> list[np.ndarray]:
    """(B, C, H, W) in [-1, 1] -> RGB uint8 arrays (grey images are repeated to 3 channels)."""
    pixels = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy()
    out = []
    for image in pixels:
        image = np.transpose(image, (1, 2, 0))
        out.append(np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image)
    return out


def from_uint8(images: list[np.ndarray], channels: int) -> torch.Tensor:
    """uint8 arrays (H, W) / (H, W, C) of the model's size -> (B, C, H, W) in [-1, 1]."""
    batch = []
    for image in images:
        image = np.asarray(image, dtype=np.float32)
        if image.ndim == 2:
            image = image[..., None]
        if channels == 1 and image.shape[2] >= 3:
            image = image[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
            image = image[..., None]
        batch.append(np.transpose(image, (2, 0, 1)) / 127.5 - 1.0)
    return torch.from_numpy(np.stack(batch)).float()
