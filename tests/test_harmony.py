"""The unified harmony network: shapes, Slide-LoRA routing, stages, checkpoints, paper scale.

Tiny random configurations (hidden 32, one or two layers) run the real code paths in
seconds; the trained-model figures live in docs/harmony/ and benchmarks/harmony_ablation.py.
"""

import json

import pytest
import torch

from conftest import EXAMPLE_RECEIPT, run_cli
from ocromni.models.harmony import data as synthetic
from ocromni.models.harmony.config import CheckpointError, HarmonyConfig
from ocromni.models.harmony.model import HarmonyNetwork, count_parameters
from ocromni.models.harmony.prompts import KIND_IMAGE_IN, KIND_PATCH_OUT, TASKS, Sample, collate, decode_text, encode_text
from ocromni.models.harmony.slide_lora import LoRALinear, lora_parameters


def tiny(**changes) -> HarmonyConfig:
    settings = dict(vision_hidden=32, vision_layers=1, vision_heads=2, vision_mlp=64, hidden=32, layers=2, heads=2,
                    kv_heads=2, intermediate=64, lora_rank=2, head_width=32, head_depth=1, diffusion_sample_steps=2)
    settings.update(changes)
    return HarmonyConfig(**settings).validate()


def mixed_batch(config, size=14, seed=0):
    tasks = synthetic.SyntheticTasks(seed=seed)
    samples = [tasks.sample(task) for task in TASKS for _ in range(size // len(TASKS))]
    return samples, collate(samples, config.patches_per_image, config.max_text_tokens)


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)


def test_every_task_builds_one_sequence_format():
    config = tiny()
    samples, batch = mixed_batch(config)
    assert batch.ids.shape == batch.kinds.shape == batch.text_labels.shape
    for row, sample in enumerate(samples):
        kinds = batch.kinds[row]
        assert int((kinds == KIND_IMAGE_IN).sum()) == (config.patches_per_image if sample.input_image is not None else 0)
        if sample.outputs_image:
            # <boi> plus all but the last patch predict a patch; no text labels.
            assert int(batch.patch_targets[row].sum()) == config.patches_per_image
            assert int((kinds == KIND_PATCH_OUT).sum()) == config.patches_per_image - 1
            assert int((batch.text_labels[row] != -100).sum()) == 0
        else:
            labels = batch.text_labels[row][batch.text_labels[row] != -100]
            assert decode_text(labels.tolist()) == sample.answer_text
    assert decode_text(encode_text("ab c") + [2] + encode_text("zz")) == "ab c"


def test_render_targets_hold_one_letter_per_patch_column():
    pitch = 8
    mow = synthetic.rendered_word("mow", pitch=pitch)
    ink = [float((255 - mow[:, k * pitch:(k + 1) * pitch]).sum()) for k in range(128 // pitch)]
    assert ink[0] == 0  # the margin column
    assert all(i > 1000 for i in ink[1:4]) and not any(ink[4:])
    # A letter looks the same in its column whatever its neighbours: the patch before
    # does not give the next one away, so drawing it needs the prompt.
    amo = synthetic.rendered_word("amo", pitch=pitch)
    same_m = abs(mow[:, 8:16] - amo[:, 16:24]).mean()
    other_letter = abs(mow[:, 8:16] - mow[:, 16:24]).mean()
    assert same_m < other_letter / 2


def test_render_patch_positions_carry_the_letter_they_draw():
    config = tiny()
    network = HarmonyNetwork(config)
    samples = [Sample("render", prompt_text="mow"), Sample("erase", input_image=synthetic.test_set("erase", 1)[0].input_image)]
    samples[0].answer_image = synthetic.test_set("render", 1)[0].answer_image
    samples[1].answer_image = samples[1].input_image
    batch = collate(samples, config.patches_per_image, config.max_text_tokens, input_patches=config.vision_tokens)
    glyphs = network.glyph_ids(batch)
    patch_positions = batch.kinds == KIND_PATCH_OUT
    render_glyphs = [decode_text([g]) for g in glyphs[0][patch_positions[0]].tolist()]
    assert "".join(render_glyphs) == "mow"  # patches 1, 2, 3 (after the margin); blank ones get none
    assert render_glyphs[:3] == ["m", "o", "w"]
    assert batch.char_index[0][patch_positions[0]].tolist()[:4] == [0, 1, 2, 3]  # 3: a blank after the word
    assert not (batch.char_index[1][patch_positions[1]] >= 0).any()  # erase has no letter layout
    # The index reaches the backbone's input at patch positions (added after the patches).
    embeds = network.embed(batch, network.codec.encode(batch.output_images)[:, :-1])
    network.config.glyph_conditioning = False
    no_glyph = network.embed(batch, network.codec.encode(batch.output_images)[:, :-1])
    assert not torch.allclose(embeds[0][patch_positions[0]], no_glyph[0][patch_positions[0]])


def test_configs_without_the_newer_switches_load_as_they_were_trained():
    data = tiny().to_dict()
    for key in ("vision_merge", "glyph_conditioning", "vision_stem"):
        data.pop(key)
    old = HarmonyConfig.from_dict(data)
    assert (old.vision_merge, old.glyph_conditioning, old.vision_stem) == (1, False, "patch")
    assert old.vision_tokens == old.patches_per_image
    new = tiny(vision_merge=2, vision_stem="conv")
    assert new.vision_geometry == (1, (32, 4), 2 * new.patches_per_image) and new.vision_tokens == new.patches_per_image
    network = HarmonyNetwork(new)
    features = network.vision(torch.zeros(2, 1, 32, 128))
    assert features.shape == (2, 2 * new.patches_per_image, new.vision_hidden)


def test_forward_backward_shapes_and_stage_freezing():
    config = tiny()
    network = HarmonyNetwork(config)
    _, batch = mixed_batch(config)
    network.set_stage(2)
    losses = network(batch)
    assert set(losses) == {"text", "image", "gate", "ctc", "total"}
    assert all(torch.isfinite(v) for v in losses.values())
    losses["total"].backward()
    backbone = dict(network.backbone.named_parameters())
    base = backbone["layers.0.self_attn.q_proj.base.weight"]
    lora_a = backbone["layers.0.self_attn.q_proj.lora_A"]
    lora_b = backbone["layers.0.self_attn.q_proj.lora_B"]  # B starts at zero, so A's first gradient is zero
    assert base.grad is None and not base.requires_grad  # stage 2: backbone base frozen
    assert lora_b.grad is not None and lora_b.grad.abs().sum() > 0
    assert all(p.grad is not None for p in network.vision.patch_embedding.parameters())
    assert network.image_head.output.weight.grad is not None
    network.zero_grad()
    network.set_stage(1)
    assert base.requires_grad and not lora_a.requires_grad
    hidden = network.hidden_states(batch, network.codec.encode(batch.output_images)[:, :-1])
    assert hidden.shape == (*batch.ids.shape, config.hidden)


def test_generation_shapes():
    config = tiny()
    network = HarmonyNetwork(config).eval()
    texts = network.generate_text(synthetic.test_set("recognize", 3), max_new_tokens=4)
    assert len(texts) == 3 and all(isinstance(t, str) and len(t) <= 4 for t in texts)
    images = network.generate_images(synthetic.test_set("render", 2) + synthetic.test_set("erase", 1))
    assert images.shape == (3, 1, config.image_height, config.image_width)
    assert float(images.min()) >= -1 and float(images.max()) <= 1


def _randomise_lora(network):
    for param in lora_parameters(network.backbone):
        param.data.normal_(0, 0.5)


def test_learned_gate_is_per_token():
    config = tiny(routing="learned")
    network = HarmonyNetwork(config)
    _randomise_lora(network)
    _, batch = mixed_batch(config)
    network.hidden_states(batch, network.codec.encode(batch.output_images)[:, :-1], record_gates=True)
    gates = network.router.gates
    assert len(gates) == config.layers * len(config.lora_targets)
    gate = gates[0]
    assert gate.shape == (*batch.ids.shape, 2)
    torch.testing.assert_close(gate.sum(-1), torch.ones_like(gate[..., 0]))
    # Different tokens of one sequence get different mixtures.
    assert float(gate[0, :, 1].detach().std()) > 1e-4


def test_routing_by_task_sends_text_tasks_to_the_text_expert_only():
    config = tiny(routing="task")
    network = HarmonyNetwork(config).eval()
    _randomise_lora(network)
    samples, batch = mixed_batch(config)
    known = network.codec.encode(batch.output_images)[:, :-1]
    before = network.hidden_states(batch, known)
    for module in network.backbone.modules():
        if isinstance(module, LoRALinear):  # silence the image expert (experts: shared, text, image)
            module.lora_B.data[2 * module.rank:] = 0
    after = network.hidden_states(batch, known)
    image_rows = torch.tensor([s.outputs_image for s in samples])
    torch.testing.assert_close(after[~image_rows], before[~image_rows])
    assert not torch.allclose(after[image_rows], before[image_rows])


def test_plain_lora_has_one_expert_with_the_same_budget():
    slide, plain, none = (HarmonyNetwork(tiny(lora_mode=m, routing="task")) for m in ("slide", "plain", "none"))
    q_slide = slide.backbone.layers[0].self_attn.q_proj
    q_plain = plain.backbone.layers[0].self_attn.q_proj
    assert q_slide.lora_A.shape[1] == 3 * q_slide.rank and q_plain.lora_A.shape[1] == q_plain.rank == 3 * q_slide.rank
    assert count_parameters(slide)["lora"] == count_parameters(plain)["lora"] > 0
    assert count_parameters(none)["lora"] == 0
    _, batch = mixed_batch(plain.config)
    plain.set_stage(2)
    assert torch.isfinite(plain(batch)["total"])


def test_save_and_load_round_trip(tmp_path):
    config = tiny()
    network = HarmonyNetwork(config).eval()
    _randomise_lora(network)
    folder = network.save_pretrained(tmp_path / "ckpt")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    assert json.loads((folder / "config.json").read_text())["model_type"] == "ocromni-harmony"
    loaded = HarmonyNetwork.from_pretrained(folder)
    assert loaded.config == config
    for key, value in network.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)
    tests = synthetic.test_set("recognize", 2)
    assert loaded.generate_text(tests, max_new_tokens=5) == network.generate_text(tests, max_new_tokens=5)


def test_missing_or_mismatched_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint folder"):
        HarmonyNetwork.from_pretrained(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no config.json"):
        HarmonyNetwork.from_pretrained(tmp_path / "empty")
    folder = HarmonyNetwork(tiny()).save_pretrained(tmp_path / "ckpt")
    config = json.loads((folder / "config.json").read_text())
    config["hidden"] = 48
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="wrong shape") as error:
        HarmonyNetwork.from_pretrained(folder)
    assert "config.json" in str(error.value)
    config["hidden"], config["lora_mode"] = 32, "plain"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="do not match"):
        HarmonyNetwork.from_pretrained(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        HarmonyNetwork.from_pretrained(folder)


def test_training_runs_both_stages_and_resumes(tmp_path):
    from ocromni.models.harmony.train import TrainPlan, train

    config = tiny()
    plan = TrainPlan(out=tmp_path / "run", stage1_steps=3, stage2_steps=2, batch_size=6, eval_every=100,
                     eval_recognition=4, eval_render=2, warmup=1)
    train(config, plan)
    for name in ("stage1", "final", "checkpoint"):
        assert (plan.out / name / "model.safetensors").is_file()
    assert (plan.out / "checkpoint" / "optimizer.safetensors").is_file()
    state = json.loads((plan.out / "checkpoint" / "trainer.json").read_text())
    assert (state["stage"], state["step"]) == (2, 2)
    curves = json.loads((plan.out / "curves.json").read_text())
    assert any("eval" in c and "word_accuracy" in c["eval"] for c in curves)
    # Asking for more stage-2 steps resumes from the checkpoint instead of starting over.
    plan.stage2_steps = 3
    train(config, plan)
    state = json.loads((plan.out / "checkpoint" / "trainer.json").read_text())
    assert (state["stage"], state["step"]) == (2, 3)


@pytest.mark.slow
def test_paper_scale_builds_on_meta_with_the_papers_counts():
    from transformers import CLIPVisionConfig, CLIPVisionModel

    from ocromni.models.harmony.scale import PAPER_CONFIGS, build_on_meta, llama_parameters

    config = PAPER_CONFIGS["orthus-7b"]
    network = build_on_meta(config)
    counts = count_parameters(network)
    assert next(network.parameters()).device.type == "meta"
    # LLaMA-2-7B's published count: 6,738,415,616 parameters.
    assert counts["backbone"] - counts["lora"] + counts["text_head"] == llama_parameters(config) == 6_738_415_616
    with torch.device("meta"):
        clip = CLIPVisionModel(CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                                                num_attention_heads=16, patch_size=14, image_size=224))
    assert counts["vision"] == sum(p.numel() for p in clip.parameters())
    result = run_cli("train", "--paper-scale")
    assert result.returncode == 0, result.stderr
    assert "13,015,864,320" in result.stdout and "6,738,415,616" in result.stdout


def test_model_path_runs_recognize_through_the_network(tmp_path):
    folder = HarmonyNetwork(tiny()).save_pretrained(tmp_path / "ckpt")
    result = run_cli("recognize", EXAMPLE_RECEIPT, "--model", folder, "--format", "json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    record = record[0] if isinstance(record, list) else record
    assert record["width"] > 0 and "lines" in record
    result = run_cli("detect", EXAMPLE_RECEIPT, "--model", folder)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)
    broken = tmp_path / "broken"
    broken.mkdir()
    result = run_cli("recognize", EXAMPLE_RECEIPT, "--model", broken)
    assert result.returncode == 5 and "config.json" in result.stderr and "Traceback" not in result.stderr
