"""The two output heads: text logits, and a per-token diffusion head for image patches.

The image head follows Orthus (and MAR before it): a small MLP with adaptive LayerNorm,
conditioned on the backbone's hidden state at one position and on the noise level,
denoises the *next* image patch. Noise schedule and sampler are diffusers' DDPM/DDIM
schedulers. It predicts the clean patch (``prediction_type="sample"``): rendered text is
nearly deterministic given the words, and x0-prediction reaches a sharp estimate in few
sampling steps. Measured on a half-trained checkpoint (64 held-out words, PP-OCRv4 exact
read-back): the one-step x0 estimate from pure noise is a blur (0%, 1-NED 0.19), 10 DDIM
steps 34%, 25 steps 31% — so 10 steps, and the blur is not what held rendering back.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class TextHead(nn.Module):
    def __init__(self, hidden: int, vocab_size: int):
        super().__init__()
        self.proj = nn.Linear(hidden, vocab_size, bias=False)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.proj(hidden_states)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class _AdaLNBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 3 * width))

    def forward(self, x, c):
        shift, scale, gate = self.modulation(c).chunk(3, dim=-1)
        return x + gate * self.mlp(self.norm(x) * (1 + scale) + shift)


class DiffusionHead(nn.Module):
    """Denoises one patch given (noisy patch, timestep, backbone hidden state)."""

    def __init__(self, patch_dim: int, hidden: int, width: int, depth: int, train_steps: int):
        super().__init__()
        self.train_steps = train_steps
        self.width = width
        self.input = nn.Linear(patch_dim, width)
        self.time = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.condition = nn.Linear(hidden, width)
        self.blocks = nn.ModuleList(_AdaLNBlock(width) for _ in range(depth))
        self.final_norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.final_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))
        self.output = nn.Linear(width, patch_dim)
        for block in self.blocks:  # start each residual block as the identity (DiT's adaLN-zero)
            nn.init.zeros_(block.modulation[-1].weight)
            nn.init.zeros_(block.modulation[-1].bias)
        self._train_scheduler = None

    def forward(self, noisy: torch.Tensor, timesteps: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        c = self.time(timestep_embedding(timesteps, self.width).to(noisy.dtype)) + self.condition(condition)
        x = self.input(noisy)
        for block in self.blocks:
            x = block(x, c)
        shift, scale = self.final_modulation(c).chunk(2, dim=-1)
        return self.output(self.final_norm(x) * (1 + scale) + shift)

    # --- diffusers schedulers -------------------------------------------------------------

    def train_scheduler(self):
        if self._train_scheduler is None:
            from diffusers import DDPMScheduler

            self._train_scheduler = DDPMScheduler(
                num_train_timesteps=self.train_steps, beta_schedule="squaredcos_cap_v2",
                prediction_type="sample", clip_sample=True,
            )
        return self._train_scheduler

    def loss(self, condition: torch.Tensor, target: torch.Tensor, repeats: int = 1) -> torch.Tensor:
        """Mean squared error of the clean-patch prediction at random noise levels."""
        scheduler = self.train_scheduler()
        condition = condition.repeat(repeats, 1)
        target = target.repeat(repeats, 1)
        t = torch.randint(0, self.train_steps, (target.shape[0],), device=target.device)
        noise = torch.randn_like(target)
        noisy = scheduler.add_noise(target, noise, t)
        prediction = self(noisy, t, condition)
        return (prediction.float() - target.float()).pow(2).mean()

    @torch.no_grad()
    def sample(self, condition: torch.Tensor, patch_dim: int, steps: int, generator=None) -> torch.Tensor:
        """Patches (N, patch_dim) for conditions (N, hidden) by DDIM with ``steps`` steps."""
        from diffusers import DDIMScheduler

        scheduler = DDIMScheduler.from_config(self.train_scheduler().config)
        scheduler.set_timesteps(steps)
        x = torch.randn(condition.shape[0], patch_dim, generator=generator, device="cpu").to(condition.device, condition.dtype)
        for t in scheduler.timesteps:
            timesteps = torch.full((x.shape[0],), int(t), device=x.device, dtype=torch.long)
            prediction = self(x, timesteps, condition)
            x = scheduler.step(prediction.float(), t, x.float()).prev_sample.to(condition.dtype)
        return x
