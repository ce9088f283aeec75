"""Slide-LoRA: text, image and shared low-rank experts on the backbone's projections.

Every adapted ``nn.Linear`` becomes ``W x + s * (shared(x) + g_text * text(x) + g_image * image(x))``
where each expert is ``B_e A_e x`` of rank r. The gate ``(g_text, g_image)`` is either

* ``learned``: a per-token softmax from a small linear gate on the projection's own input
  (TextHarmony's gating network), optionally supervised by each token's output modality
  (``gate_supervision``) so the experts specialise instead of collapsing onto one; or
* ``task``: fixed by the modality the token must produce (text for spotting, reading,
  answering and captions; image for rendering, fill and erase) — routing by task.

``plain`` mode is one LoRA of rank 3r (the same number of parameters) for comparison.
The released TextHarmony code routes by keywords in the prompt; here the gate sees the
hidden state, so one sequence can mix modalities token by token.

The experts are stored stacked, so one matmul computes all three: ``x @ A`` gives
(…, 3r), the gate scales each expert's r columns, and ``@ B`` sums them.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

EXPERTS = ("shared", "text", "image")


class Router:
    """Per-forward routing state shared by all adapters of one backbone."""

    def __init__(self, routing: str):
        self.routing = routing
        self.task_gate: Optional[torch.Tensor] = None  # (B, L, 2) for routing by task
        self.gates: list[torch.Tensor] = []  # learned gates recorded this forward, (B, L, 2) each
        self.record = False
        self.enabled = True  # off while stage 1 trains the base weights (the adapters are zero then)

    def reset(self, task_gate: Optional[torch.Tensor] = None, record: bool = False) -> None:
        self.task_gate, self.gates, self.record = task_gate, [], record


class LoRALinear(nn.Module):
    """A frozen-able base projection plus plain or Slide-LoRA experts."""

    def __init__(self, base: nn.Linear, mode: str, rank: int, alpha: float, router: Router):
        super().__init__()
        self.base = base
        self.mode = mode
        self.router = router
        experts = 3 if mode == "slide" else 1
        total_rank = rank * 3  # plain LoRA gets the same parameter budget as three experts
        self.rank = rank if mode == "slide" else total_rank
        self.scale = alpha / self.rank
        factory = dict(device=base.weight.device, dtype=base.weight.dtype)
        self.lora_A = nn.Parameter(torch.empty(base.in_features, experts * self.rank, **factory))
        self.lora_B = nn.Parameter(torch.zeros(experts * self.rank, base.out_features, **factory))
        if base.weight.device.type != "meta":
            nn.init.kaiming_uniform_(self.lora_A.T, a=5 ** 0.5)
        self.gate = nn.Linear(base.in_features, 2, **factory) if mode == "slide" and router.routing == "learned" else None

    def expert_weights(self, x: torch.Tensor) -> torch.Tensor:
        """(…, 3) weights of the shared, text and image experts for each token of ``x``."""
        if self.gate is not None:
            gate = F.softmax(self.gate(x).float(), dim=-1)
            if self.router.record:
                self.router.gates.append(gate)
        elif self.router.task_gate is not None:
            gate = self.router.task_gate.float()
        else:
            raise RuntimeError("Slide-LoRA routed by task needs the task gate of this forward")
        ones = torch.ones_like(gate[..., :1])
        return torch.cat([ones, gate], dim=-1).to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        if not self.router.enabled:
            return out
        low = x @ self.lora_A
        if self.mode == "slide":
            weights = self.expert_weights(x).repeat_interleave(self.rank, dim=-1)
            low = low * weights
        return out + (low @ self.lora_B) * self.scale


def add_lora(backbone: nn.Module, targets, mode: str, rank: int, alpha: float, router: Router) -> int:
    """Wrap every projection named in ``targets`` in place; returns how many were wrapped."""
    if mode == "none":
        return 0
    wrapped = 0
    for module in list(backbone.modules()):
        for name, child in list(module.named_children()):
            if name in targets and isinstance(child, nn.Linear):
                setattr(module, name, LoRALinear(child, mode, rank, alpha, router))
                wrapped += 1
    return wrapped


def lora_parameters(module: nn.Module):
    """The adapter and gate parameters (what stage 2 trains in the backbone)."""
    for name, param in module.named_parameters():
        if ".lora_" in name or ".gate." in name:
            yield param
