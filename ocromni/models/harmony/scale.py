"""Paper-scale configurations, built on the meta device (no memory), with parameter counts.

* ``textharmony-13b`` — TextHarmony's components: CLIP ViT-L/14 (224 px) and a
  Vicuna/LLaMA-13B backbone; its image head here is the Orthus-style diffusion head on
  SD-VAE latents (TextHarmony itself conditions a Stable Diffusion U-Net).
* ``orthus-7b`` — Orthus's scale: a 7B LLaMA-architecture backbone (Chameleon-7B is one)
  with the per-token diffusion head on SD-VAE latents, plus CLIP ViT-L/14 for reading.

Generated pictures at paper scale are 256x256 RGB through an SD-style ``AutoencoderKL``
(f8, 4 latent channels): 32x32x4 latents cut into 2x2 patches, 256 patch tokens of 16
numbers each. The autoencoder is counted separately (it is decoder.py's paper-scale
counterpart). Run ``python -m ocromni.models.harmony.scale`` or ``ocromni train --paper-scale``.
"""

from __future__ import annotations

from ocromni.models.harmony.config import HarmonyConfig

CLIP_VIT_L14 = dict(vision_image_height=224, vision_image_width=224, vision_channels=3, vision_patch=14,
                    vision_stem="patch", vision_merge=1,
                    vision_hidden=1024, vision_layers=24, vision_heads=16, vision_mlp=4096)
SD_LATENTS = dict(image_height=32, image_width=32, image_channels=4, patch_height=2, patch_width=2)

PAPER_CONFIGS = {
    "orthus-7b": HarmonyConfig(
        **CLIP_VIT_L14, **SD_LATENTS, backbone="llama", hidden=4096, layers=32, heads=32, kv_heads=32,
        intermediate=11008, vocab_size=32000, max_positions=4096, max_text_tokens=512,
        lora_rank=16, lora_alpha=32, head_width=1024, head_depth=3,
    ),
    "textharmony-13b": HarmonyConfig(
        **CLIP_VIT_L14, **SD_LATENTS, backbone="llama", hidden=5120, layers=40, heads=40, kv_heads=40,
        intermediate=13824, vocab_size=32000, max_positions=4096, max_text_tokens=512,
        lora_rank=16, lora_alpha=32, head_width=1280, head_depth=3,
    ),
}


def llama_parameters(config: HarmonyConfig) -> int:
    """LLaMA's parameter count from its shape alone (embeddings + layers + norm + LM head)."""
    h, i, v, layers = config.hidden, config.intermediate, config.vocab_size, config.layers
    kv = h * config.kv_heads // config.heads
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * i + 2 * h  # q, o; k, v; gate, up, down; two RMSNorms
    return 2 * v * h + layers * per_layer + h


def clip_vision_parameters(config: HarmonyConfig) -> int:
    """CLIP's vision tower from its shape alone (as transformers' CLIPVisionModel)."""
    channels, (ph, pw), tokens = config.vision_geometry
    d, m = config.vision_hidden, config.vision_mlp
    per_layer = 4 * d * d + 4 * d + 2 * d * m + m + d + 4 * d  # attention, MLP, two LayerNorms
    return channels * ph * pw * d + d + (tokens + 1) * d + 2 * d + config.vision_layers * per_layer + 2 * d


def build_on_meta(config: HarmonyConfig):
    import torch

    from ocromni.models.harmony.model import HarmonyNetwork

    with torch.device("meta"):
        return HarmonyNetwork(config)


def sd_autoencoder_parameters() -> int:
    """The SD-style AutoencoderKL (f8, 4 latent channels), built on the meta device."""
    import torch
    from diffusers import AutoencoderKL

    with torch.device("meta"):
        vae = AutoencoderKL(
            in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2,
            block_out_channels=(128, 256, 512, 512),
            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        )
    return sum(p.numel() for p in vae.parameters())


def paper_scale_report() -> dict[str, dict[str, int]]:
    from ocromni.models.harmony.model import count_parameters

    report = {}
    for name, config in PAPER_CONFIGS.items():
        network = build_on_meta(config)
        counts = count_parameters(network)
        counts["backbone_without_lora"] = counts["backbone"] - counts["lora"]
        counts["expected_llama"] = llama_parameters(config)
        counts["expected_clip_vision"] = clip_vision_parameters(config)
        counts["sd_autoencoder"] = sd_autoencoder_parameters()
        report[name] = counts
    return report


def print_paper_scale() -> None:
    report = paper_scale_report()
    rows = ["vision", "projector", "patch_embedding", "patch_position", "backbone_without_lora", "lora",
            "text_head", "image_head", "total", "expected_clip_vision", "expected_llama", "sd_autoencoder"]
    names = list(report)
    print(f"{'part':<24}" + "".join(f"{n:>20}" for n in names))
    for row in rows:
        print(f"{row:<24}" + "".join(f"{report[n][row]:>20,}" for n in names))
    for n in names:
        r = report[n]
        llama = r["backbone_without_lora"] + r["text_head"]
        print(f"{n}: backbone + text head = {llama:,} ({llama / 1e9:.2f}B) "
              f"{'==' if llama == r['expected_llama'] else '!='} LLaMA formula {r['expected_llama']:,}; "
              f"vision {r['vision']:,} {'==' if r['vision'] == r['expected_clip_vision'] else '!='} CLIP ViT-L/14 formula")


if __name__ == "__main__":
    print_paper_scale()
