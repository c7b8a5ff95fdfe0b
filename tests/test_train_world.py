"""`gf train world` on a tiny budget: runs end to end, writes every file, and is deterministic by seed."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gf_runtime import load_pipeline
from gf_runtime.cli import TRAIN_PRECISIONS, build_parser
from gf_runtime.machine import cpu_computes_bf16_natively
from gf_runtime.world.clips import clip_positions, sample_clip
from gf_runtime.world.files import MODEL_FILE, TEXT_FILE, VAE_FILE
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.vae import TinyVae
from gf_runtime.world.render import BOUNCE_HEIGHT_FRACTION, FRAME_SIZE, WorldSim, ground_line_y
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.train import (
    WORLD_RECIPES,
    WorldTrainConfig,
    _batch_uses,
    _batches,
    _draw_dit_batch,
    _draw_vae_batch,
    _retimed,
    _context_only_in_last_chunk,
    _context_only_where_drifted,
    _prompt_batch,
    _text_batch,
    _reproduce_command,
    _vae_batch,
    own_context,
    subject_kept,
    train_dit,
    train_vae,
    can_compile,
    train_world,
)

TINY_BUDGET = dict(vae_steps=3, vae_batch=4, dit_steps=3, dit_batch=2, log_every=1, warmup_steps=1)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    # the shipped recipe (each batch used three times, the VAE on crops, its forward in bf16) on a tiny budget,
    # eager: compiling it costs minutes of the suite (test_compiled_training_follows_the_eager_losses compiles)
    config = dataclasses.replace(WORLD_RECIPES["default"], seed=3, compile_training=False, **TINY_BUDGET)
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    report = train_world(config, a, progress=False)
    train_world(config, b, progress=False)
    return a, b, report


def test_training_writes_weights_card_and_loss_curve(two_runs: tuple[Path, Path, dict]) -> None:
    out, _, report = two_runs
    for name in (MODEL_FILE, VAE_FILE, TEXT_FILE, "MODEL_CARD.md", "loss.png", "train_log.json", "train_report.json"):
        assert (out / name).is_file(), name
    assert report["final_dit_loss"] > 0 and report["dit_parameters"] > 1_000_000
    pipe = load_pipeline(out)
    with pipe.session(prompt="a red ball in the desert", seed=0) as s:
        assert s.next_chunk().frames.shape == (3, 64, 64, 3)


def test_training_is_deterministic_by_seed(two_runs: tuple[Path, Path, dict]) -> None:
    a, b, _ = two_runs
    for name in (MODEL_FILE, VAE_FILE, TEXT_FILE):
        wa, wb = load_file(str(a / name)), load_file(str(b / name))
        assert wa.keys() == wb.keys()
        assert all((wa[k] == wb[k]).all() for k in wa), name


def _one_lookup_per_prompt(encoder: WorldTextEncoder, chunk_prompts: list[tuple[str, ...]]) -> torch.Tensor:
    """The reference: each chunk's prompt embedded on its own, zero-padded to the longest (B, n_chunks, L, D)."""
    embedded = [[encoder.embed_ids(encoder.token_ids(p))[0] for p in prompts] for prompts in chunk_prompts]
    longest = max(e.shape[0] for sample in embedded for e in sample)
    return torch.stack([torch.stack([torch.nn.functional.pad(e, (0, 0, 0, longest - e.shape[0])) for e in sample])
                        for sample in embedded])


def test_one_lookup_for_the_batch_gives_the_per_prompt_embeddings_and_gradient_bit_for_bit() -> None:
    # what keeps the shipped recipe's weights bit-identical since the batch's prompts are looked up in one call
    config = WorldTrainConfig(dit_batch=64)
    encoder = WorldTextEncoder(config.model_config.text_dim)
    for seed in range(3):
        prompts = list(_draw_dit_batch(np.random.default_rng(seed), config, config.spec().sampler, 8).chunk_prompts)
        prompts.append(("", "a cube", "", "a blue star bounces in the snow"))  # an empty prompt pads a whole chunk
        batched, reference = _prompt_batch(encoder, prompts), _one_lookup_per_prompt(encoder, prompts)
        assert batched.shape == reference.shape and torch.equal(batched, reference)
        upstream = torch.randn(reference.shape, generator=torch.Generator().manual_seed(seed))
        grads = [torch.autograd.grad((x * upstream).sum(), encoder.embedding.weight)[0] for x in (batched, reference)]
        assert torch.equal(grads[0], grads[1])


def test_clips_switch_prompts_inside_and_use_the_anchor_layout() -> None:
    rng = np.random.default_rng(0)
    clips = [sample_clip(rng, 12, 3, anchor_layout=False, switch_prob=1.0) for _ in range(8)]
    assert all(c.frames.shape == (12, 64, 64, 3) and len(c.chunk_prompts) == 4 for c in clips)
    assert all(len(set(c.chunk_prompts)) == 2 for c in clips)  # exactly one switch inside each clip
    assert clip_positions(12, 3, anchor_layout=True) == [0, 0, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert clip_positions(12, 3, anchor_layout=False) == list(range(12))


def test_reserved_anchor_positions_keep_contiguous_clips_off_the_anchor_slots(tmp_path: Path) -> None:
    assert clip_positions(12, 3, anchor_layout=False, reserve_anchor_positions=True) == list(range(3, 12))
    assert clip_positions(12, 3, anchor_layout=True, reserve_anchor_positions=True) == clip_positions(12, 3, True)
    # a training run with the option trains on the shorter clips and says so in its model card
    config = dataclasses.replace(WorldTrainConfig(seed=5, reserve_anchor_positions=True, anchor_layout_prob=0.0),
                                 **TINY_BUDGET)
    report = train_world(config, tmp_path, progress=False)
    assert report["config"]["reserve_anchor_positions"] is True
    assert "contiguous clips of 9 frames at positions 3–11" in (tmp_path / "MODEL_CARD.md").read_text()
    pipe = load_pipeline(tmp_path)
    with pipe.session(prompt="a red ball in the desert", seed=0) as s:
        assert np.isfinite(s.next_chunk().frames).all()


def test_spread_anchor_clips_take_each_anchor_frame_from_its_own_moment() -> None:
    rng = np.random.default_rng(1)
    for _ in range(6):
        spread = sample_clip(rng, 12, 3, anchor_layout=True, spread_anchors=True)
        gaps = np.diff(spread.frame_times)
        assert (gaps[:3] >= 3).all()  # anchor frames apart from each other and from the local frames
        assert (gaps[3:] == 1).all()  # the local frames and the chunk are consecutive
        plain = sample_clip(rng, 12, 3, anchor_layout=True)
        gaps = np.diff(plain.frame_times)
        assert (gaps[:2] == 1).all() and gaps[2] >= 3 and (gaps[3:] == 1).all()


def test_drifted_context_clips_show_another_shape_only_in_the_local_chunks() -> None:
    # the anchors and the last chunk show the true subject; the local chunks between them a drifted one, in the
    # same place (read by the shipped frame classifier from the rendered frames)
    rng = np.random.default_rng(2)
    classifier = load_classifier()
    for _ in range(4):
        clip = sample_clip(rng, 12, 3, anchor_layout=True, switch_prob=0.0, drifted_context=True)
        pred = classifier.predict(clip.frames)
        anchors, local, last = pred.shape[:3], pred.shape[3:9], pred.shape[9:]
        assert clip.drifted_context
        assert len(set(anchors)) == 1 and set(last) == set(anchors)
        assert not set(local) & set(anchors)
        assert np.abs(pred.x[3:] - clip.subject_xy[3:, 0]).max() < 3.0  # the drifted subject is where the true one is
    with pytest.raises(ValueError, match="anchor layout"):
        sample_clip(rng, 12, 3, anchor_layout=False, drifted_context=True)


def test_drifted_context_clips_train_only_their_last_chunk() -> None:
    rng = np.random.default_rng(0)
    config = WorldTrainConfig(drifted_context_prob=1.0)
    clips = [sample_clip(rng, 12, 3, anchor_layout=True, drifted_context=bool(i % 2)) for i in range(6)]
    t_bn = np.full((6, 4), 500.0)
    t_bn[:, -1] = 0.0  # a sampler draw that left the last chunk clean
    out = _context_only_where_drifted(t_bn, [c.drifted_context for c in clips], rng, config.spec().sampler)
    for clip, row, before in zip(clips, out, t_bn):
        if clip.drifted_context:
            assert (row[:-1] == 0).all() and row[-1] > 0
        else:
            assert (row == before).all()


def test_training_report_records_the_precision_this_cpu_trained_in(two_runs: tuple[Path, Path, dict]) -> None:
    # the default precision is decided by the CPU (emulated bf16 is ~11x slower than fp32); the report says which
    _, _, report = two_runs
    assert report["config"]["bf16_autocast"] is cpu_computes_bf16_natively()
    assert torch.backends.cpu.get_cpu_capability() in report["machine"]


@pytest.mark.parametrize("word, forced", [("bf16", True), ("fp32", False)])
def test_train_precision_flag_overrides_the_cpu_choice(word: str, forced: bool) -> None:
    args = build_parser().parse_args(["train", "world", "--precision", word])
    config = WorldTrainConfig(bf16_autocast=TRAIN_PRECISIONS[args.precision])
    assert config.resolved().bf16_autocast is forced and config.uses_bf16 is forced
    auto = build_parser().parse_args(["train", "world"])
    assert WorldTrainConfig(bf16_autocast=TRAIN_PRECISIONS[auto.precision]).resolved().bf16_autocast is cpu_computes_bf16_natively()


def test_vae_bounce_fraction_puts_that_share_of_subjects_off_the_ground_at_every_height() -> None:
    # a bouncing subject visits every sub-cell offset; the VAE must see them all (EVAL.md)
    heights = lambda fraction: ground_line_y() - _vae_batch(np.random.default_rng(0), 400, fraction)[1][:, 1]
    natural, bouncing = heights(0.0), heights(0.6)
    assert (bouncing > 0.5).mean() > (natural > 0.5).mean() + 0.3
    apex = BOUNCE_HEIGHT_FRACTION * FRAME_SIZE
    lifted = bouncing[bouncing > 0.5]
    counts = np.histogram(lifted, bins=4, range=(0.0, apex))[0]
    assert counts.min() > 0.5 * counts.max()  # spread over the bounce, not piled near the apex


def test_dit_bounce_fraction_opens_that_share_of_clips_on_a_bouncing_subject_that_the_prompt_names() -> None:
    # only a bouncing subject moves vertically through the latent grid's row offsets (EVAL.md)
    def clips(fraction: float) -> list:
        rng = np.random.default_rng(3)
        return [sample_clip(rng, 12, 3, anchor_layout=False, bounce_prob=fraction) for _ in range(300)]
    rises = lambda clip: bool(np.ptp(clip.subject_xy[:, 1]) > 1.0)
    natural, bouncing = clips(0.0), clips(0.6)
    assert np.mean([rises(c) for c in bouncing]) > np.mean([rises(c) for c in natural]) + 0.3
    assert np.mean(["bounc" in c.chunk_prompts[0] for c in bouncing if rises(c)]) > 0.7  # the text says so too

    def bouncing_prompts(fraction: float) -> float:  # the recipe's batches carry the fraction to their clips
        config = WorldTrainConfig(dit_bounce_fraction=fraction, dit_batch=200)
        batch = _draw_dit_batch(np.random.default_rng(3), config, config.spec().sampler, 8)
        return float(np.mean(["bounc" in prompts[0] for prompts in batch.chunk_prompts]))
    assert bouncing_prompts(0.6) > bouncing_prompts(0.0) + 0.3
    with pytest.raises(ValueError, match="dit_bounce_fraction=1.2 is a fraction"):
        WorldTrainConfig(dit_bounce_fraction=1.2)


def test_model_card_reproduce_line_is_the_cli_for_the_recipe_and_the_python_call_otherwise() -> None:
    recipe = dataclasses.asdict(dataclasses.replace(WORLD_RECIPES["default"], seed=4, bf16_autocast=False))
    assert _reproduce_command(recipe) == "`gf train world --seed 4 --precision fp32`"
    assert _reproduce_command({**recipe, "dit_steps": 10}) == "`gf train world --seed 4 --precision fp32 --dit-steps 10`"
    changed = _reproduce_command({**recipe, "vae_width": 48})
    assert "vae_width=48" in changed and "gf train world" not in changed.split("(not")[0]
    assert "dataclasses.replace(WORLD_RECIPES['default'], vae_width=48, seed=4" in changed
    large = dataclasses.asdict(dataclasses.replace(WORLD_RECIPES["large"], seed=1, bf16_autocast=True))
    assert _reproduce_command(large, "cuda") == "`gf train world --recipe large --seed 1 --precision bf16 --device cuda`"
    assert _reproduce_command({**large, "dit_shape": "tiny"}, "cuda").endswith("--device cuda --dit-shape tiny`")
    assert "WORLD_RECIPES['large']" in _reproduce_command({**large, "switch_prob": 0.2})
    previous = dataclasses.asdict(dataclasses.replace(WORLD_RECIPES["default-2026-11-25"], seed=0, bf16_autocast=True))
    assert _reproduce_command(previous) == "`gf train world --recipe default-2026-11-25 --seed 0 --precision bf16`"
    reuse = dataclasses.asdict(dataclasses.replace(WORLD_RECIPES["reuse-2026-12-06"], seed=0, bf16_autocast=True))
    assert _reproduce_command(reuse) == "`gf train world --recipe reuse-2026-12-06 --seed 0 --precision bf16`"
    from_json = json.loads(json.dumps(recipe))
    assert _reproduce_command(from_json) == "`gf train world --seed 4 --precision fp32`"
    ninth = dataclasses.asdict(WorldTrainConfig(seed=0, bf16_autocast=True))  # the default of 2026-12-05
    assert _reproduce_command(ninth) == "`gf train world --recipe default-2026-12-05 --seed 0 --precision bf16`"


def test_step_seeded_batches_are_the_same_whatever_draws_them_and_differ_step_to_step() -> None:
    config = dataclasses.replace(WORLD_RECIPES["large"], dit_batch=2)
    spec = config.spec()
    draw = functools.partial(_draw_dit_batch, config=config, sampler=spec.sampler, vae_scale=spec.latent.vae_scale)
    here = list(_batches(draw, config, np.random.default_rng(0), 3, stream=1, workers=0))
    workers = list(_batches(draw, config, np.random.default_rng(99), 3, stream=1, workers=2))
    for a, b in zip(here, workers):
        assert torch.equal(a.frames_bfhw3, b.frames_bfhw3) and torch.equal(a.t_bn, b.t_bn)
        assert a.chunk_prompts == b.chunk_prompts and torch.equal(a.positions_f, b.positions_f)
    assert not torch.equal(here[0].frames_bfhw3, here[1].frames_bfhw3)
    other_stream = next(_batches(draw, config, np.random.default_rng(0), 1, stream=0, workers=0))
    assert not torch.equal(other_stream.frames_bfhw3, here[0].frames_bfhw3)
    # the shipped recipe draws its batches in turn from the one generator it is given
    shipped = dataclasses.replace(WORLD_RECIPES["default"], dit_batch=2)
    draw_shipped = functools.partial(_draw_dit_batch, config=shipped, sampler=spec.sampler, vae_scale=spec.latent.vae_scale)
    in_turn = list(_batches(draw_shipped, shipped, np.random.default_rng(5), 2, stream=1, workers=4))
    rng = np.random.default_rng(5)
    by_hand = [draw_shipped(rng), draw_shipped(rng)]
    assert all(torch.equal(a.frames_bfhw3, b.frames_bfhw3) for a, b in zip(in_turn, by_hand))


def test_a_dit_time_limit_stops_training_early_and_the_card_says_where(tmp_path: Path) -> None:
    config = dataclasses.replace(WorldTrainConfig(seed=2, bf16_autocast=False), **{**TINY_BUDGET, "dit_steps": 50})
    report = train_world(config, tmp_path, progress=False, dit_time_limit_s=0.0)
    assert report["dit_steps_done"] == 1
    assert "stopped by a time limit after 1" in (tmp_path / "MODEL_CARD.md").read_text()
    assert load_pipeline(tmp_path).spec.model == config.spec().model


def test_large_recipe_trains_the_small_dit_with_step_seeded_data_in_worker_processes(tmp_path: Path) -> None:
    args = build_parser().parse_args(["train", "world", "--recipe", "large", "--dit-shape", "small", "--out", str(tmp_path),
                                      "--data-workers", "2", "--dit-steps", "2", "--vae-steps", "2"])
    assert (args.recipe, args.dit_shape, args.data_workers) == ("large", "small", 2)
    config = dataclasses.replace(WORLD_RECIPES["large"], bf16_autocast=False, vae_batch=4, dit_batch=2, dit_steps=2,
                                 vae_steps=2, log_every=1, warmup_steps=1)
    report = train_world(config, tmp_path, progress=False, data_workers=2)
    assert report["dit_parameters"] > 4 * 3_914_368  # the small shape, not tiny
    assert load_pipeline(tmp_path).spec.model.dim == 384
    with pytest.raises(ValueError, match="not a model preset"):
        WorldTrainConfig(dit_shape="huge")



def test_train_world_cli_refuses_an_unknown_recipe_and_a_large_one_over_the_shipped_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gf_runtime.cli import main

    assert main(["train", "world", "--recipe", "nope", "--out", str(tmp_path)]) == 2
    assert ("unknown recipe 'nope'; choose one of default, default-2026-12-05, hour-2026-12-06, reuse-2026-12-06, default-2026-11-25, large"
            in capsys.readouterr().err)
    assert main(["train", "world", "--recipe", "large"]) == 2  # no --out: it would overwrite the shipped default
    assert "needs --out" in capsys.readouterr().err and not any(tmp_path.iterdir())
    assert main(["train", "world", "--recipe", "large", "--out", str(tmp_path)]) == 2  # on a CPU: out of memory
    assert "sized for a GPU (pass --device cuda)" in capsys.readouterr().err and not any(tmp_path.iterdir())
    assert main(["train", "world", "--out", str(tmp_path), "--data-workers", "-1"]) == 2
    assert "data_workers=-1" in capsys.readouterr().err and not any(tmp_path.iterdir())
    assert main(["train", "world", "--out", str(tmp_path), "--dit-time-limit", "-5"]) == 2
    assert "dit_time_limit_s=-5" in capsys.readouterr().err and not any(tmp_path.iterdir())


@pytest.mark.parametrize("steps", [2, 10, 15])
def test_the_vae_trains_for_a_handful_of_steps(steps: int) -> None:
    # the learning-rate schedule once divided by zero at exactly 10 steps (its warm-up ended at step 0)
    config = dataclasses.replace(WorldTrainConfig(seed=1, bf16_autocast=False), vae_steps=steps, vae_batch=2)
    _, losses = train_vae(config, progress=False)
    assert len(losses) == steps and np.isfinite(losses).all()
    with pytest.raises(ValueError, match="at least 2"):
        WorldTrainConfig(vae_steps=1)


def test_fine_tuning_starts_from_the_given_model_and_leaves_it_untouched() -> None:
    from gf_runtime.model.dit import CausalWanDiT
    from gf_runtime.world.text import WorldTextEncoder
    from gf_runtime.world.train import train_dit
    from gf_runtime.world.vae import TinyVae

    config = dataclasses.replace(WorldTrainConfig(seed=1, bf16_autocast=False), **TINY_BUDGET)
    spec = config.spec()
    torch.manual_seed(0)
    dit, encoder = CausalWanDiT(spec.model), WorldTextEncoder(spec.model.text_dim)
    before = {k: v.clone() for k, v in dit.state_dict().items()}
    tuned, _, log = train_dit(config, TinyVae(), progress=False, start_from=(dit, encoder))
    assert all((dit.state_dict()[k] == v).all() for k, v in before.items())  # the start is not trained in place
    head = "head.head.weight"
    assert before[head].abs().sum() > 0  # a from-scratch run would zero the head; a fine-tune keeps it
    assert (tuned.state_dict()[head] - before[head]).abs().max() < 0.05 and len(log) == config.dit_steps


def _shipped_world() -> tuple["CausalWanDiT", "WorldTextEncoder", "TinyVae"]:
    from gf_runtime.model.checkpoint import load_weights, read_tensors
    from gf_runtime.model.dit import CausalWanDiT
    from gf_runtime.world.files import DEFAULT_MODEL_DIR
    from gf_runtime.world.text import WorldTextEncoder
    from gf_runtime.world.vae import TinyVae

    dit = CausalWanDiT(WorldTrainConfig().spec().model)
    load_weights(dit, read_tensors(DEFAULT_MODEL_DIR / MODEL_FILE))
    return dit.eval(), WorldTextEncoder.load(DEFAULT_MODEL_DIR / TEXT_FILE), TinyVae.load(DEFAULT_MODEL_DIR / VAE_FILE)


def test_own_context_is_the_models_redraw_of_the_rendered_frames_closer_the_later_it_starts() -> None:
    dit, encoder, vae = _shipped_world()
    sampler = WorldTrainConfig().spec().sampler
    rng = np.random.default_rng(3)
    clips = [sample_clip(rng, 12, 3, anchor_layout=False, switch_prob=0.5) for _ in range(6)]
    rendered = np.stack([c.frames[:9] for c in clips])  # (B, 9, H, W, 3): three context chunks
    x0 = vae.encode(rendered).float()
    text = _text_batch(encoder, clips)[:, :3]
    errors = {}
    for start in (1, len(sampler.timesteps) - 1):
        drawn = own_context(dit, x0, text, torch.arange(9), 3, sampler, start, torch.Generator().manual_seed(0))
        assert drawn.shape == x0.shape and drawn.dtype == torch.float32
        errors[start] = float(np.abs(vae.decode(drawn).astype(np.float32) - rendered).mean())
    late, early = errors[len(sampler.timesteps) - 1], errors[1]
    # from the last step the model keeps the rendered layout (the VAE round trip alone is ~6 grey levels) but
    # draws it itself; from the second it redraws much of it
    assert 3.0 < late < 15.0 and early > late + 5.0, errors
    with pytest.raises(ValueError, match="start_step"):
        own_context(dit, x0, text, torch.arange(9), 3, sampler, len(sampler.timesteps), torch.Generator())


def test_own_context_batches_train_only_the_last_chunk_and_change_what_is_learned() -> None:
    sampler = WorldTrainConfig().spec().sampler
    rng = np.random.default_rng(0)
    t_bn = np.where(rng.random((8, 4)) < 0.5, 0.0, 500.0)
    out = _context_only_in_last_chunk(t_bn, rng, sampler)
    assert (out[:, :-1] == 0).all() and (out[:, -1] > 0).all()
    assert (out[t_bn[:, -1] > 0, -1] == t_bn[t_bn[:, -1] > 0, -1]).all()  # a noisy last chunk keeps its level

    dit, encoder, vae = _shipped_world()
    tuned = {}
    for prob in (0.0, 1.0):
        config = dataclasses.replace(WorldTrainConfig(seed=1, bf16_autocast=False, own_context_prob=prob), **TINY_BUDGET)
        model, _, log = train_dit(config, vae, progress=False, start_from=(dit, encoder))
        assert np.isfinite([r["loss"] for r in log]).all()
        tuned[prob] = model.state_dict()["head.head.weight"]
    assert not torch.equal(tuned[0.0], tuned[1.0])  # the model's own context reaches the gradient


def test_subject_kept_rejects_a_redraw_with_another_shape_or_colour_and_training_logs_the_kept_share() -> None:
    judge = load_classifier()
    scene = "{} still in the desert by day with a static camera"
    clip = lambda subject, seed: WorldSim(scene.format(subject), seed=seed).clip(6)[0]  # noqa: E731
    rendered = np.stack([clip("a red ball", 1), clip("a blue cube", 2)])  # (2, 6, H, W, 3)
    assert subject_kept(judge, rendered, rendered).tolist() == [True, True]
    other = rendered.copy()
    other[0, 4:] = clip("a red star", 1)[4:]  # two frames of another shape
    other[1, :3] = clip("a green cube", 2)[:3]  # three frames of another colour
    assert subject_kept(judge, rendered, other).tolist() == [False, False]
    with pytest.raises(ValueError, match="differ in shape"):
        subject_kept(judge, rendered, rendered[:, :3])

    dit, encoder, vae = _shipped_world()
    config = dataclasses.replace(WorldTrainConfig(seed=1, bf16_autocast=False, own_context_prob=1.0,
                                                  own_context_keep_subject=True), **{**TINY_BUDGET, "dit_steps": 4})
    _, _, log = train_dit(config, vae, progress=False, start_from=(dit, encoder))
    kept = [r["own_context_kept"] for r in log]
    assert len(kept) == 4 and all(0.0 <= k <= 1.0 for k in kept)


def test_padding_prompts_to_text_len_changes_nothing_the_dit_computes() -> None:
    # what lets a compiled step see one text shape without changing what the shipped recipe trains
    from gf_runtime.model.dit import CausalWanDiT
    from gf_runtime.model.layers import init_random_weights

    config = WorldTrainConfig(dit_shape="micro", dit_batch=3)
    spec = config.spec()
    model = CausalWanDiT(spec.model)
    init_random_weights(model, 0)
    encoder = WorldTextEncoder(spec.model.text_dim)
    batch = _draw_dit_batch(np.random.default_rng(4), config, spec.sampler, spec.latent.vae_scale)
    prompts = list(batch.chunk_prompts)
    longest, padded = _prompt_batch(encoder, prompts), _prompt_batch(encoder, prompts, pad_to=spec.model.text_len)
    assert longest.shape[2] < padded.shape[2] == spec.model.text_len
    x_bfchw = torch.randn(3, config.horizon_frames, spec.model.in_channels, 8, 8, generator=torch.Generator().manual_seed(0))
    t_bf = batch.t_bn.repeat_interleave(config.chunk_frames, dim=1)
    params = list(model.parameters()) + list(encoder.parameters())
    for bf16 in (False, True):  # fp32, and the bf16 autocast the shipped recipe trains in
        flows, grads = [], []
        for pad_to in (1, spec.model.text_len):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                text = _prompt_batch(encoder, prompts, pad_to=pad_to)
                flow = model(x_bfchw, t_bf, text, chunk_frames=config.chunk_frames, frame_pos_f=batch.positions_f)
            flows.append(flow.float())
            grads.append(torch.autograd.grad((flow.float() ** 2).mean(), params))
        assert torch.equal(flows[0], flows[1])
        assert all(torch.equal(a, b) for a, b in zip(*grads))


def test_compiled_bf16_cross_attention_matches_the_eager_attention() -> None:
    from gf_runtime.model.attention import attend, attend_text

    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 48, 4, 16, generator=gen), torch.randn(2, 8, 4, 16, generator=gen),
               torch.randn(2, 8, 4, 16, generator=gen))
    compiled = torch.compile(attend_text, fullgraph=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        eager, traced = attend(q, k, v), compiled(q, k, v)
    assert traced.shape == eager.shape == (2, 48, 4, 16)
    assert traced.dtype == eager.dtype == torch.bfloat16
    assert torch.allclose(traced.float(), eager.float(), atol=0.03, rtol=0.03)
    assert not torch.equal(traced, eager)  # the bf16 matmuls ran, not SDPA in fp32
    assert torch.equal(attend_text(q, k, v), attend(q, k, v))  # eager code keeps SDPA, in fp32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(attend_text(q, k, v), eager)  # and under autocast (uncompiled training)


def test_the_bf16_vae_forward_rounds_differently_and_trains_alike() -> None:
    eager = dataclasses.replace(WorldTrainConfig(seed=2, bf16_autocast=True), **TINY_BUDGET, vae_width=16)
    (_, losses_eager), (_, losses_bf16) = (train_vae(c, progress=False)
                                           for c in (eager, dataclasses.replace(eager, vae_bf16_forward=True)))
    assert losses_bf16 != losses_eager  # the forward ran in bf16
    assert np.allclose(losses_bf16, losses_eager, rtol=0.02)


@pytest.mark.skipif(not can_compile(torch.device("cpu")), reason="torch.compile needs a C++ compiler on a CPU")
def test_compiled_training_follows_the_eager_losses() -> None:
    eager = dataclasses.replace(WorldTrainConfig(seed=2, bf16_autocast=True), **TINY_BUDGET, dit_shape="micro",
                                vae_width=16)
    compiled = dataclasses.replace(eager, compile_training=True)
    vae, _ = train_vae(eager, progress=False)
    _, losses_compiled = train_vae(compiled, progress=False)
    dit_eager, dit_compiled = ([r["loss"] for r in train_dit(c, vae, progress=False)[2]] for c in (eager, compiled))
    assert len(dit_compiled) == eager.dit_steps and np.isfinite(losses_compiled).all()
    assert dit_compiled != dit_eager  # the compiled step ran: it rounds differently
    assert np.allclose(dit_compiled, dit_eager, rtol=0.05)


def test_compile_training_without_a_cxx_compiler_trains_eagerly_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from gf_runtime.world.train import _compiled

    module = torch.nn.Linear(2, 2)
    assert _compiled(WorldTrainConfig(compile_training=False), module, torch.device("cpu")) is module  # not asked for
    monkeypatch.setenv("CXX", "no-such-cxx-compiler")
    with caplog.at_level("WARNING"):
        assert _compiled(WorldTrainConfig(compile_training=True), module, torch.device("cpu")) is module
        # and the report records what ran
        assert WorldTrainConfig(compile_training=True).resolved().compile_training is False
    assert "no C++ compiler 'no-such-cxx-compiler'" in caplog.text


def test_a_report_recorded_before_a_field_existed_reads_as_that_field_off() -> None:
    from gf_runtime.world.train import FIELDS_BEFORE_RECORDED, config_fields

    recorded = dataclasses.asdict(WorldTrainConfig())
    for name in FIELDS_BEFORE_RECORDED:
        del recorded[name]
    recorded["own_context_start_steps"] = list(recorded["own_context_start_steps"])  # as JSON gives it back
    assert config_fields(recorded) == dataclasses.asdict(WorldTrainConfig(vae_bf16_forward=False, compile_training=False))


def test_a_retimed_batch_keeps_its_clips_and_draws_new_timesteps_by_the_same_rules() -> None:
    config = dataclasses.replace(WorldTrainConfig(anchor_layout_prob=1.0, drifted_context_prob=0.5), dit_batch=12)
    sampler = config.spec().sampler
    batch = _draw_dit_batch(np.random.default_rng(4), config, sampler, vae_scale=8)
    assert any(batch.drifted_b) and not all(batch.drifted_b)
    rng = np.random.default_rng(0)
    uses = list(_batch_uses(iter([batch]), 3, functools.partial(_retimed, rng=rng, config=config, sampler=sampler)))
    assert [fresh for _, fresh in uses] == [True, False, False] and uses[0][0] is batch
    for again, _ in uses[1:]:
        assert torch.equal(again.frames_bfhw3, batch.frames_bfhw3) and again.chunk_prompts == batch.chunk_prompts
        assert torch.equal(again.positions_f, batch.positions_f) and torch.equal(again.subject_bfhw, batch.subject_bfhw)
        assert not torch.equal(again.t_bn, batch.t_bn)
        assert ((again.t_bn > 0).sum(dim=1) >= 1).all()  # every clip trains at least one chunk
        for row, drifted in zip(again.t_bn, again.drifted_b):
            if drifted:  # only the last chunk of a drifted-context clip is trained, as when it was drawn
                assert (row[:-1] == 0).all() and row[-1] > 0
    assert not torch.equal(uses[1][0].t_bn, uses[2][0].t_bn)


def test_vae_crops_are_grid_aligned_windows_of_the_same_frames_that_hold_the_subject() -> None:
    whole, crop = WorldTrainConfig(vae_batch=64), WorldTrainConfig(vae_batch=64, vae_crop=40)
    frames, subject = (t.numpy() for t in _draw_vae_batch(np.random.default_rng(5), whole))
    crops, crop_subject = (t.numpy() for t in _draw_vae_batch(np.random.default_rng(5), crop))
    centres_xy = _vae_batch(np.random.default_rng(5), 64, whole.vae_bounce_fraction)[1]
    assert crops.shape == (64, 40, 40, 3) and crop_subject.shape == (64, 40, 40)
    corners = set()
    for n, (x, y) in enumerate(centres_xy):
        # the crop is the frame's window at some corner on the 8-pixel grid, its mask the same window of the mask
        found = [(y0, x0) for y0 in range(0, 25, 8) for x0 in range(0, 25, 8)
                 if np.array_equal(frames[n, y0:y0 + 40, x0:x0 + 40], crops[n])
                 and np.array_equal(subject[n, y0:y0 + 40, x0:x0 + 40], crop_subject[n])]
        assert found, f"crop {n} is no grid-aligned window of its frame"
        y0, x0 = found[0]
        assert x0 <= x < x0 + 40 and y0 <= y < y0 + 40  # it holds the subject's centre
        corners.add(found[0])
    assert len(corners) > 4  # drawn among the corners that hold it, not always the same one
    for bad in (36, 72, -8):
        with pytest.raises(ValueError, match="multiple of 8"):
            WorldTrainConfig(vae_crop=bad)


def test_a_vae_trained_on_crops_codes_whole_frames_and_the_card_says_so(tmp_path: Path) -> None:
    config = dataclasses.replace(WorldTrainConfig(seed=1, bf16_autocast=False), **TINY_BUDGET, vae_crop=24,
                                 vae_width=16, dit_shape="micro")
    report = train_world(config, tmp_path, progress=False)
    assert np.isfinite(report["vae_mean_abs_error_grey_levels"])
    assert "trained on 24×24-pixel crops holding the subject" in (tmp_path / "MODEL_CARD.md").read_text()
    vae = TinyVae.load(tmp_path / VAE_FILE)
    frames = _vae_batch(np.random.default_rng(0), 2)[0]
    latents = vae.encode(frames[:, None])
    assert latents.shape == (2, 1, config.model_config.in_channels, 8, 8)
    assert vae.decode(latents).shape == (2, 1, 64, 64, 3)


def test_dit_batch_uses_trains_each_drawn_batch_for_that_many_steps() -> None:
    base = dataclasses.replace(WorldTrainConfig(seed=1, bf16_autocast=False), **TINY_BUDGET, dit_shape="micro",
                               vae_width=16)
    vae, _ = train_vae(base, progress=False)
    once, twice = ([r["loss"] for r in train_dit(c, vae, progress=False)[2]]
                   for c in (base, dataclasses.replace(base, dit_batch_uses=2)))
    assert len(twice) == 3  # the step count is the recipe's whatever the reuse
    assert twice[0] == once[0]  # the first use is the batch as drawn, with its own timesteps and noise
    assert twice[1] != once[1]  # the second step retrains those clips instead of drawing new ones
    with pytest.raises(ValueError, match="dit_batch_uses=0"):
        WorldTrainConfig(dit_batch_uses=0)
