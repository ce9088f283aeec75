"""The MiniLM-L6 sentence encoder's network (a 6-layer BERT) in plain torch.

``ask`` embeds each question with all-MiniLM-L6-v2 to route it (``ranker.Router``).
Building that encoder with transformers' ``BertModel`` meant importing transformers'
BERT module, about 3 s of a 5 s QA-model load on this 2-core CPU, for a network this small.
This module computes the same function from the same ``model.safetensors``: BERT's
embeddings, then per layer self-attention and a GELU feed-forward, each followed by a
residual LayerNorm. Its hidden states match ``BertModel``'s to float rounding
(tests/test_ask.py compares them).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# Checkpoint entries this encoder does not use: BERT's pooler (sentence embeddings are
# mean-pooled instead) and the position-id buffer (positions are 0..length-1 here).
UNUSED_PREFIXES = ("pooler.", "embeddings.position_ids")


class _Embeddings(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        hidden = config["hidden_size"]
        self.word_embeddings = nn.Embedding(config["vocab_size"], hidden, padding_idx=config.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(config["max_position_embeddings"], hidden)
        self.token_type_embeddings = nn.Embedding(config["type_vocab_size"], hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=config["layer_norm_eps"])

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        # Every token is segment 0: the encoder only ever sees one sentence at a time.
        embedded = self.word_embeddings(input_ids) + self.position_embeddings(positions) + self.token_type_embeddings.weight[0]
        return self.LayerNorm(embedded)


class _SelfAttention(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, states: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = states.shape

        def split(x):  # (batch, length, hidden) -> (batch, heads, length, hidden / heads)
            return x.view(batch, length, self.heads, hidden // self.heads).transpose(1, 2)

        context = F.scaled_dot_product_attention(split(self.query(states)), split(self.key(states)),
                                                 split(self.value(states)), attn_mask=keep)
        return context.transpose(1, 2).reshape(batch, length, hidden)


class _DenseNorm(nn.Module):
    """A projection, then LayerNorm over it plus the residual (BERT's two "output" blocks)."""

    def __init__(self, inputs: int, config: dict):
        super().__init__()
        self.dense = nn.Linear(inputs, config["hidden_size"])
        self.LayerNorm = nn.LayerNorm(config["hidden_size"], eps=config["layer_norm_eps"])

    def forward(self, states: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(states) + residual)


class _Attention(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.self = _SelfAttention(config)  # the checkpoint's names: attention.self.query, ...
        self.output = _DenseNorm(config["hidden_size"], config)

    def forward(self, states: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(states, keep), states)


class _Intermediate(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.dense = nn.Linear(config["hidden_size"], config["intermediate_size"])

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(states))  # BERT's "gelu" is the exact (erf) one


class _Layer(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.attention = _Attention(config)
        self.intermediate = _Intermediate(config)
        self.output = _DenseNorm(config["intermediate_size"], config)

    def forward(self, states: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        attended = self.attention(states, keep)
        return self.output(self.intermediate(attended), attended)


class _Encoder(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.layer = nn.ModuleList(_Layer(config) for _ in range(config["num_hidden_layers"]))


class MiniLM(nn.Module):
    """BERT's encoder without the pooler: word-piece ids -> last hidden states."""

    def __init__(self, config: dict):
        super().__init__()
        if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only BERT checkpoints with GELU and absolute positions are supported")
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)

    @classmethod
    def load(cls, directory: Path) -> "MiniLM":
        """The network of the checkpoint in ``directory`` (``config.json``, ``model.safetensors``), in eval mode."""
        from safetensors.torch import load_file

        model = cls(json.loads((Path(directory) / "config.json").read_text(encoding="utf-8")))
        state = load_file(str(Path(directory) / "model.safetensors"))
        model.load_state_dict({k: v for k, v in state.items() if not k.startswith(UNUSED_PREFIXES)})  # strict
        return model.eval()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """``(batch, length, hidden)`` states; padding (``attention_mask`` 0) is never attended to."""
        keep = attention_mask.bool()[:, None, None, :]  # broadcast over heads and query positions
        states = self.embeddings(input_ids)
        for layer in self.encoder.layer:
            states = layer(states, keep)
        return states
