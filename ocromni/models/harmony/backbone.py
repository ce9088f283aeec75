"""The decoder-only backbone: a transformers model class sized by HarmonyConfig.

Only the transformer stack is used (``LlamaModel``/``Qwen2Model``): token embeddings for
text, RoPE positions, causal attention, the final norm. Images enter as embeddings
(``inputs_embeds``), so the same stack reads interleaved image and text tokens.
"""

from __future__ import annotations

from torch import nn

from ocromni.models.harmony.config import HarmonyConfig


def backbone_config(config: HarmonyConfig, vocab_size: int):
    common = dict(
        vocab_size=vocab_size,
        hidden_size=config.hidden,
        intermediate_size=config.intermediate,
        num_hidden_layers=config.layers,
        num_attention_heads=config.heads,
        num_key_value_heads=config.kv_heads,
        max_position_embeddings=config.max_positions,
        tie_word_embeddings=False,
        attention_dropout=0.0,
    )
    if config.backbone == "qwen2":
        from transformers import Qwen2Config

        return Qwen2Config(**common)
    from transformers import LlamaConfig

    return LlamaConfig(**common)


def build_backbone(config: HarmonyConfig, vocab_size: int) -> nn.Module:
    """A randomly initialised decoder stack (weights come from a checkpoint or training)."""
    settings = backbone_config(config, vocab_size)
    if config.backbone == "qwen2":
        from transformers import Qwen2Model as Model
    else:
        from transformers import LlamaModel as Model
    settings._attn_implementation = "sdpa"
    return Model(settings)
