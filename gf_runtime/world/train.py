"""`gf train world`: train the embedded default world model on a CPU (VAE, then text encoder + causal DiT).

1. TinyVae on rendered frames (reconstruction, with latent noise so the decoder tolerates the DiT's errors).
2. The causal DiT (the runtime's own CausalWanDiT, ``tiny`` shape) with the world text encoder, by
   diffusion forcing with the block-causal mask on clips of ``horizon_frames``: every chunk gets its own noise
   level or stays clean (clean context, as at inference), prompt switches happen inside clips, and some clips
   use the DR-RoPE anchor layout. Flow-matching loss on the noisy chunks; EMA weights are shipped.
Deterministic by seed; progress bars; a loss log, a loss-curve PNG and a model card are written with the weights.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from gf_runtime.config import MODEL_PRESETS, LatentGeometry, PipelineSpec, SamplerConfig
from gf_runtime.machine import cpu_computes_bf16_natively, machine_description
from gf_runtime.model.checkpoint import save_checkpoint
from gf_runtime.model.dit import CausalWanDiT
from gf_runtime.model.layers import init_random_weights
from gf_runtime.sampling.schedule import predict_x0, renoise
from gf_runtime.world.files import MODEL_FILE, TEXT_FILE, VAE_FILE, WORLD_TEXT_ENCODER, WORLD_VAE
from gf_runtime.world.classifier import FrameClassifier, load_classifier
from gf_runtime.world.clips import ClipSample, clip_positions, random_prompt, sample_clip, subject_cells
from gf_runtime.world.render import FRAME_SIZE, SUBJECT_SIZE_FRACTION, WorldSim
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.vae import TinyVae

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class WorldTrainConfig:
    seed: int = 0
    threads: int = 2
    horizon_frames: int = 12
    chunk_frames: int = 3
    # VAE
    vae_steps: int = 2400
    vae_batch: int = 32
    vae_lr: float = 1e-3
    vae_latent_noise: float = 0.1
    vae_width: int = 48
    # Fraction of the VAE's frames whose subject bounces, placed at a uniformly drawn height: a walking or still
    # subject always stands on one row, a bouncing one visits every sub-cell offset and is lost by an encoder
    # that has seen too few of them (EVAL.md). The rest are random prompts (a quarter of those bounce too).
    vae_bounce_fraction: float = 0.0
    vae_subject_loss_weight: float = 16.0  # the subject is under a tenth of the pixels; without this the VAE blurs it away
    # DiT
    dit_steps: int = 6000
    dit_batch: int = 16
    dit_lr: float = 8e-4
    warmup_steps: int = 300
    ema_decay: float = 0.998
    clean_context_prob: float = 0.5
    inference_timestep_prob: float = 0.5
    switch_prob: float = 0.5
    anchor_layout_prob: float = 0.3
    spread_anchors: bool = False  # anchor-layout clips take each anchor frame from its own moment, as the GCM does
    # Fraction of anchor-layout clips whose local chunks show a drifted identity (clips.py): the anchors and the
    # last chunk show the true subject and only the last chunk is a target, so reading the anchors is the way to
    # get the subject right. Without it the local frames always show the subject too and the model learns to
    # ignore position-0 anchors (EVAL.md).
    drifted_context_prob: float = 0.0
    # Contiguous clips leave the anchor slots out (positions chunk_frames..horizon-1, one chunk fewer), so that
    # DR-RoPE's anchor position holds only anchors in training: in a full contiguous clip it holds the clip's
    # oldest chunk, the least useful context, and the model learns to give that distance little attention (EVAL.md).
    reserve_anchor_positions: bool = False
    # Fraction of batches whose context chunks are the model's own output (Self Forcing's point: at inference the
    # context is what the model drew, not rendered frames): the rendered context is noised to one of the sampler's
    # steps, drawn from ``own_context_start_steps`` (indices into its timesteps), and denoised by the live model
    # with the remaining steps, without gradient; only the last chunk is trained, against the rendered frames.
    # A late start keeps the rendered layout, so the target stays consistent with the context, while the frames
    # carry the model's own errors (a blurred or half-drawn subject), which it learns to correct (EVAL.md).
    own_context_prob: float = 0.0
    own_context_start_steps: tuple[int, ...] = (2, 3)
    # Keep the model's redraw only in clips where the frame classifier reads the same subject (shape and colour)
    # in every redrawn context frame as in the rendered ones; the others keep their rendered context. A redraw
    # loses the shape in 20-40% of frames (EVAL.md), and a context showing another subject than the target teaches
    # the model not to copy the subject from its context, which is what a long stream needs most.
    own_context_keep_subject: bool = False
    subject_loss_weight: float = 6.0  # the subject is a few latent cells; weight them so it is not averaged away
    log_every: int = 25
    # bf16 autocast for the DiT's forward/backward and the VAE's encoding of training clips (weights, optimizer,
    # EMA and loss stay fp32): 1.3x the steps per hour on a CPU with AVX512-BF16 or AMX, but 11x slower than fp32
    # where bf16 is emulated (AVX2; BENCHMARKS.md). None: on exactly where the CPU computes bf16 natively.
    bf16_autocast: bool | None = None

    @property
    def uses_bf16(self) -> bool:
        return cpu_computes_bf16_natively() if self.bf16_autocast is None else self.bf16_autocast

    def resolved(self) -> "WorldTrainConfig":
        """This config with the machine-dependent choices made (what a training report records)."""
        return dataclasses.replace(self, bf16_autocast=self.uses_bf16)

    def spec(self) -> PipelineSpec:
        return PipelineSpec(
            model=MODEL_PRESETS["tiny"],
            sampler=SamplerConfig(chunk_frames=self.chunk_frames),
            latent=LatentGeometry(height=8, width=8, vae_scale=8),
            horizon_frames=self.horizon_frames,
            fps=16.0,
            text_encoder=WORLD_TEXT_ENCODER,
            vae=WORLD_VAE,
        )


# ----------------------------------------------------------------------------------------------- VAE
def _vae_batch(rng: np.random.Generator, batch: int, bounce_fraction: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Random frames (N, H, W, 3) uint8 and their subjects' centres (N, 2) in pixels.

    A ``bounce_fraction`` of them show a bouncing subject at a height drawn uniformly over the bounce.
    """
    frames, subject_xy = [], []
    for _ in range(batch):
        prompt = random_prompt(rng)
        bounce = bool(rng.random() < bounce_fraction)
        if bounce:
            prompt = dataclasses.replace(prompt, motion="bounces")
        sim = WorldSim(prompt, seed=int(rng.integers(2**31)))
        sim.advance(int(rng.integers(0, 30)))
        if bounce:
            sim.place_in_bounce(float(rng.random()))
        label = sim.label()
        frames.append(sim.render())
        subject_xy.append((label.x, label.y))
    return np.stack(frames), np.array(subject_xy, dtype=np.float32)


def _to_pixels(frames_nhw3: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames_nhw3).float().permute(0, 3, 1, 2) / 127.5 - 1.0


def train_vae(config: WorldTrainConfig, progress: bool = True) -> tuple[TinyVae, list[float]]:
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    vae = TinyVae(latent_channels=MODEL_PRESETS["tiny"].in_channels, width=config.vae_width)
    opt = torch.optim.AdamW(vae.parameters(), lr=config.vae_lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.vae_lr, total_steps=config.vae_steps, pct_start=0.1)
    losses = []
    gen = torch.Generator().manual_seed(config.seed)
    subject_size = FRAME_SIZE * SUBJECT_SIZE_FRACTION
    for _ in tqdm(range(config.vae_steps), desc="vae", disable=not progress):
        frames, subject_xy = _vae_batch(rng, config.vae_batch, config.vae_bounce_fraction)
        pixels = _to_pixels(frames)
        z = vae.encode_raw(pixels)
        z_noisy = z + config.vae_latent_noise * z.detach().std() * torch.randn(z.shape, generator=gen)
        recon = vae.decode_raw(z_noisy)
        subject_n1hw = torch.from_numpy(subject_cells(subject_xy, subject_size, FRAME_SIZE, cell=1)).float()[:, None]
        weight = 1.0 + (config.vae_subject_loss_weight - 1.0) * subject_n1hw
        error = recon - pixels
        loss = ((error.abs() + error.pow(2)) * weight).sum() / (weight.sum() * 3) + 1e-4 * z.pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    # Per-channel latent statistics, measured on fresh frames.
    with torch.no_grad():
        z = torch.cat([vae.encode_raw(_to_pixels(_vae_batch(rng, 64)[0])) for _ in range(8)])
        vae.latent_mean.copy_(z.mean(dim=(0, 2, 3)))
        vae.latent_std.copy_(z.std(dim=(0, 2, 3)).clamp_min(1e-3))
    return vae.eval().requires_grad_(False), losses


# ----------------------------------------------------------------------------------------------- DiT
def _text_batch(encoder: WorldTextEncoder, clips: list[ClipSample]) -> torch.Tensor:
    """Each chunk's prompt embeddings, zero-padded to the longest: (B, n_chunks, L, text_dim)."""
    ids = [[encoder.token_ids(p) for p in clip.chunk_prompts] for clip in clips]
    longest = max(1, max(len(i) for sample in ids for i in sample))
    rows = []
    for sample in ids:
        chunk_rows = []
        for chunk_ids in sample:
            emb = encoder.embed_ids(chunk_ids)[0] if chunk_ids else encoder.embedding.weight.new_zeros(0, encoder.text_dim)
            chunk_rows.append(F.pad(emb, (0, 0, 0, longest - emb.shape[0])))
        rows.append(torch.stack(chunk_rows))
    return torch.stack(rows)


def _sample_timesteps(
    rng: np.random.Generator, config: WorldTrainConfig, sampler: SamplerConfig, batch: int, n_chunks: int
) -> np.ndarray:
    """(B, n_chunks) timesteps; 0 = clean context. At least one noisy chunk per sample."""
    inference = np.array(sampler.timesteps)
    t = np.zeros((batch, n_chunks))
    for b in range(batch):
        noisy = rng.random(n_chunks) >= config.clean_context_prob
        noisy[int(rng.integers(n_chunks))] = True
        for c in np.flatnonzero(noisy):
            if rng.random() < config.inference_timestep_prob:
                t[b, c] = inference[int(rng.integers(len(inference)))]
            else:
                u = rng.random()
                s = sampler.shift
                t[b, c] = 1000.0 * s * u / (1 + (s - 1) * u)
    return np.maximum(t, 0.0)


def _context_only_where_drifted(
    t_bn: np.ndarray, clips: list[ClipSample], rng: np.random.Generator, sampler: SamplerConfig
) -> np.ndarray:
    """In drifted-context clips every chunk but the last is clean context and the last one is noisy (the target)."""
    t_bn = t_bn.copy()
    for b, clip in enumerate(clips):
        if clip.drifted_context:
            t_bn[b, :-1] = 0.0
            if t_bn[b, -1] <= 0.0:
                t_bn[b, -1] = sampler.timesteps[int(rng.integers(len(sampler.timesteps)))]
    return t_bn


def _context_only_in_last_chunk(t_bn: np.ndarray, rng: np.random.Generator, sampler: SamplerConfig) -> np.ndarray:
    """Every chunk but the last is clean context; the last one is noisy (the target): own-context batches."""
    t_bn = t_bn.copy()
    t_bn[:, :-1] = 0.0
    for b in np.flatnonzero(t_bn[:, -1] <= 0.0):
        t_bn[b, -1] = sampler.timesteps[int(rng.integers(len(sampler.timesteps)))]
    return t_bn


@torch.no_grad()
def own_context(
    model: CausalWanDiT,
    context_bfchw: torch.Tensor,
    text_bnld: torch.Tensor,
    frame_pos_f: torch.Tensor,
    chunk_frames: int,
    sampler: SamplerConfig,
    start_step: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """The model's own version of rendered context latents (B, F, C, h, w), fp32, same shape.

    Noises them to the sampler's step ``start_step`` and runs the remaining denoising steps, all chunks at once
    under the block-causal mask (each sees the earlier chunks' current noisy state, as diffusion forcing trains).
    ``text_bnld`` holds one prompt per chunk of the context, ``frame_pos_f`` its temporal RoPE indices.
    """
    if not 0 <= start_step < len(sampler.timesteps):
        raise ValueError(f"start_step {start_step} is not one of the sampler's {len(sampler.timesteps)} steps")
    sigmas, timesteps = sampler.sigmas, sampler.timesteps
    x_t = renoise(context_bfchw, torch.randn(context_bfchw.shape, generator=generator), sigmas[start_step])
    x0 = x_t
    for step in range(start_step, len(timesteps)):
        t_bf = torch.full(context_bfchw.shape[:2], timesteps[step])
        flow = model(x_t, t_bf, text_bnld, chunk_frames=chunk_frames, frame_pos_f=frame_pos_f)
        x0 = predict_x0(x_t, flow, sigmas[step])
        if step + 1 < len(timesteps):
            x_t = renoise(x0, torch.randn(x0.shape, generator=generator), sigmas[step + 1])
    return x0


def subject_kept(judge: FrameClassifier, rendered_bfhw3: np.ndarray, drawn_bfhw3: np.ndarray) -> np.ndarray:
    """(B,) bool: the classifier reads the same subject shape and colour in every drawn frame as in the rendered
    frame it stands for (uint8 frames, both (B, F, H, W, 3))."""
    if rendered_bfhw3.shape != drawn_bfhw3.shape:
        raise ValueError(f"rendered {rendered_bfhw3.shape} and drawn {drawn_bfhw3.shape} frames differ in shape")
    b, f = rendered_bfhw3.shape[:2]
    both = judge.predict(np.concatenate([rendered_bfhw3, drawn_bfhw3]).reshape(2 * b * f, *rendered_bfhw3.shape[2:]))
    same_bf = (both.shape[: b * f] == both.shape[b * f :]) & (both.color[: b * f] == both.color[b * f :])
    return same_bf.reshape(b, f).all(axis=1)


def _autocast(config: WorldTrainConfig) -> torch.autocast:
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.uses_bf16)


def train_dit(
    config: WorldTrainConfig,
    vae: TinyVae,
    progress: bool = True,
    start_from: tuple[CausalWanDiT, WorldTextEncoder] | None = None,
) -> tuple[CausalWanDiT, WorldTextEncoder, list[dict[str, float]]]:
    """Train the DiT and text encoder from scratch, or fine-tune copies of ``start_from`` (experiments)."""
    spec = config.spec()
    rng = np.random.default_rng(config.seed + 1)
    torch.manual_seed(config.seed + 1)
    gen = torch.Generator().manual_seed(config.seed + 1)
    if start_from is None:
        model = CausalWanDiT(spec.model)
        init_random_weights(model, config.seed)
        with torch.no_grad():  # start as a small correction: zero head
            model.head.head.weight.zero_()
            model.head.head.bias.zero_()
        encoder = WorldTextEncoder(spec.model.text_dim)
    else:
        model, encoder = (copy.deepcopy(m).train().requires_grad_(True) for m in start_from)
    params = list(model.parameters()) + list(encoder.parameters())
    opt = torch.optim.AdamW(params, lr=config.dit_lr, weight_decay=0.01, betas=(0.9, 0.99))

    def lr_at(step: int) -> float:
        if step < config.warmup_steps:
            return config.dit_lr * (step + 1) / config.warmup_steps
        progress_frac = (step - config.warmup_steps) / max(1, config.dit_steps - config.warmup_steps)
        return config.dit_lr * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * progress_frac)))

    judge = load_classifier() if config.own_context_prob > 0 and config.own_context_keep_subject else None
    kept_counts = [0, 0]  # own-context clips whose redraw kept the subject, of all own-context clips
    ema_model = copy.deepcopy(model).requires_grad_(False)
    ema_encoder = copy.deepcopy(encoder).requires_grad_(False)
    subject_size = FRAME_SIZE * SUBJECT_SIZE_FRACTION
    log: list[dict[str, float]] = []
    running = []
    start = time.perf_counter()
    bar = tqdm(range(config.dit_steps), desc="dit", disable=not progress)
    for step in bar:
        anchor_layout = bool(rng.random() < config.anchor_layout_prob)
        positions = clip_positions(config.horizon_frames, config.chunk_frames, anchor_layout,
                                   reserve_anchor_positions=config.reserve_anchor_positions)
        clips = [
            sample_clip(rng, len(positions), config.chunk_frames, anchor_layout, config.switch_prob,
                        spread_anchors=config.spread_anchors,
                        # no draw when off: the shipped recipe's data stream stays as it was trained
                        drifted_context=anchor_layout and config.drifted_context_prob > 0
                        and bool(rng.random() < config.drifted_context_prob))
            for _ in range(config.dit_batch)
        ]
        frames = np.stack([c.frames for c in clips])  # (B, F, H, W, 3)
        with torch.no_grad(), _autocast(config):
            x0 = vae.encode(frames).float()  # (B, F, C, h, w), normalised
        text_bnld = _text_batch(encoder, clips)
        frame_pos = torch.tensor(positions)
        t_bn = torch.from_numpy(_context_only_where_drifted(
            _sample_timesteps(rng, config, spec.sampler, config.dit_batch, len(positions) // config.chunk_frames),
            clips, rng, spec.sampler
        )).float()
        x_in = x0  # what the model sees before noising; the loss target stays the rendered x0
        # no draw when off: the shipped recipe's data stream stays as it was trained
        if config.own_context_prob > 0 and rng.random() < config.own_context_prob:
            t_bn = torch.from_numpy(_context_only_in_last_chunk(t_bn.numpy(), rng, spec.sampler)).float()
            start_step = int(config.own_context_start_steps[int(rng.integers(len(config.own_context_start_steps)))])
            n_ctx = x0.shape[1] - config.chunk_frames
            with _autocast(config):
                drawn = own_context(model, x0[:, :n_ctx], text_bnld[:, :-1], frame_pos[:n_ctx], config.chunk_frames,
                                    spec.sampler, start_step, gen).float()
            if judge is not None:
                with torch.no_grad():
                    keep_b = subject_kept(judge, frames[:, :n_ctx], vae.decode(drawn))
                kept_counts[0] += int(keep_b.sum())
                kept_counts[1] += len(keep_b)
                drawn = torch.where(torch.from_numpy(keep_b)[:, None, None, None, None], drawn, x0[:, :n_ctx])
            x_in = torch.cat([drawn, x0[:, n_ctx:]], dim=1)
        t_bf = t_bn.repeat_interleave(config.chunk_frames, dim=1)
        sigma = (t_bf / spec.sampler.num_train_timesteps)[..., None, None, None]
        noise = torch.randn(x0.shape, generator=gen)
        x_t = (1 - sigma) * x_in + sigma * noise
        with _autocast(config):
            flow = model(x_t, t_bf, text_bnld, chunk_frames=config.chunk_frames, frame_pos_f=frame_pos).float()
        cells = np.stack([subject_cells(c.subject_xy, subject_size, FRAME_SIZE, spec.latent.vae_scale) for c in clips])
        spatial_bf1hw = 1.0 + (config.subject_loss_weight - 1.0) * torch.from_numpy(cells).float()[:, :, None]
        weight = (t_bf > 0).float()[..., None, None, None] * spatial_bf1hw  # (B, F, 1, h, w)
        loss = ((flow - (noise - x0)) ** 2 * weight).sum() / (weight.sum() * x0.shape[2])
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            for ema, live in ((ema_model, model), (ema_encoder, encoder)):
                for p_ema, p in zip(ema.parameters(), live.parameters()):
                    p_ema.lerp_(p, 1 - config.ema_decay)
        running.append(loss.item())
        if (step + 1) % config.log_every == 0 or step + 1 == config.dit_steps:
            mean = float(np.mean(running))
            running.clear()
            record = {"step": step + 1, "loss": mean, "lr": lr_at(step), "seconds": time.perf_counter() - start}
            if kept_counts[1]:
                record["own_context_kept"] = kept_counts[0] / kept_counts[1]  # since the previous record
                kept_counts[:] = [0, 0]
            log.append(record)
            bar.set_postfix(loss=f"{mean:.4f}")
    return ema_model.eval(), ema_encoder.eval(), log


# ----------------------------------------------------------------------------------------------- the whole job
def _plot_losses(vae_losses: list[float], dit_log: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(vae_losses, linewidth=0.8)
    ax1.set_yscale("log")
    ax1.set_title("VAE reconstruction loss")
    ax1.set_xlabel("step")
    ax2.plot([r["step"] for r in dit_log], [r["loss"] for r in dit_log], linewidth=1)
    ax2.set_yscale("log")
    ax2.set_title("DiT flow-matching loss")
    ax2.set_xlabel("step")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def train_world(config: WorldTrainConfig, out_dir: Path, progress: bool = True) -> dict[str, object]:
    config = config.resolved()
    logger.info("training in %s", "bf16 autocast" if config.bf16_autocast else "fp32")
    torch.set_num_threads(config.threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    vae, vae_losses = train_vae(config, progress)
    vae_s = time.perf_counter() - t0
    with torch.no_grad():
        check = _vae_batch(np.random.default_rng(config.seed + 99), 64)[0]
        recon = vae.decode(vae.encode(check[:, None]))[:, 0]
        vae_mae = float(np.abs(recon.astype(np.float32) - check.astype(np.float32)).mean())
    vae.save(out_dir / VAE_FILE)
    t1 = time.perf_counter()
    model, encoder, dit_log = train_dit(config, vae, progress)
    dit_s = time.perf_counter() - t1
    spec = config.spec()
    save_checkpoint(out_dir / MODEL_FILE, model, spec)
    encoder.save(out_dir / TEXT_FILE)
    _plot_losses(vae_losses, dit_log, out_dir / "loss.png")
    (out_dir / "train_log.json").write_text(json.dumps({"vae_loss": vae_losses[:: max(1, len(vae_losses) // 200)], "dit": dit_log}))
    report: dict[str, object] = {
        "config": dataclasses.asdict(config),
        "vae_seconds": round(vae_s, 1),
        "dit_seconds": round(dit_s, 1),
        "total_seconds": round(time.perf_counter() - t0, 1),
        "vae_mean_abs_error_grey_levels": round(vae_mae, 2),
        "final_dit_loss": dit_log[-1]["loss"] if dit_log else None,
        "dit_parameters": sum(p.numel() for p in model.parameters()),
        "vae_parameters": sum(p.numel() for p in vae.parameters()),
        "machine": f"{machine_description(torch.device('cpu'))}, torch {torch.__version__}",
        "date": time.strftime("%Y-%m-%d"),
    }
    _write_model_card(out_dir, report)
    return report


# WorldTrainConfig fields that `gf train world` can override, and their flags (the CLI reads its overrides from here)
CLI_TRAIN_FLAGS = {"dit_steps": "--dit-steps", "vae_steps": "--vae-steps", "threads": "--threads"}


def _reproduce_command(cfg: dict[str, object]) -> str:
    """The `gf train world` command that trains with ``cfg``, or the Python call where the CLI cannot say it."""
    precision = "bf16" if cfg.get("bf16_autocast") else "fp32"
    recipe = dataclasses.asdict(WorldTrainConfig(seed=int(cfg["seed"]), bf16_autocast=bool(cfg.get("bf16_autocast"))))  # type: ignore[call-overload]
    changed = {k: v for k, v in cfg.items() if k in recipe and recipe[k] != v}
    flags = "".join(f" {CLI_TRAIN_FLAGS[k]} {v}" for k, v in changed.items() if k in CLI_TRAIN_FLAGS)
    others = {k: v for k, v in changed.items() if k not in CLI_TRAIN_FLAGS}
    if not others:
        return f"`gf train world --seed {cfg['seed']} --precision {precision}{flags}`"
    args = ", ".join(f"{k}={v!r}" for k, v in {"seed": cfg["seed"], **changed, "bf16_autocast": cfg.get("bf16_autocast")}.items())
    return f"`train_world(WorldTrainConfig({args}), out_dir)` (not the shipped recipe: the CLI trains that one)"


def _write_model_card(out_dir: Path, report: dict[str, object]) -> None:
    cfg = report["config"]
    assert isinstance(cfg, dict)
    reserved = clip_positions(cfg["horizon_frames"], cfg["chunk_frames"], anchor_layout=False,
                              reserve_anchor_positions=True)  # what the option trains on, for the card
    card = f"""# gf default world model

The embedded default: a procedural world (biomes, a subject with shape, colour and motion, a panning camera)
learned by a causal Wan-style DiT small enough to train and run on a 2-core CPU.

| part | what | parameters |
|---|---|---|
| DiT | `CausalWanDiT`, `tiny` shape (dim 192, 6 layers, 4 heads), Wan parameter names | {report['dit_parameters']:,} |
| VAE | `TinyVae`, per-frame conv autoencoder, 64×64×3 ↔ 8×8×16 | {report['vae_parameters']:,} |
| text | `WorldTextEncoder`: prompt parser → attribute tokens → learned 64-d embeddings | {len(__import__('gf_runtime.world.prompt', fromlist=['ALL_TOKENS']).ALL_TOKENS) * 64:,} |

- **VAE data**: single rendered frames; {cfg.get('vae_bounce_fraction', 0.0):.0%} of them show a bouncing subject at a height
  drawn uniformly over its bounce (the rest random prompts); width {cfg.get('vae_width')}.
- **Data**: clips rendered on the fly by `gf_runtime.world.WorldSim` ({cfg['horizon_frames']} latent frames =
  pixel frames, chunks of {cfg['chunk_frames']}); prompt switches inside {cfg['switch_prob']:.0%} of clips
  (biome or motion mostly, identity rarely); {cfg['anchor_layout_prob']:.0%} of batches use the DR-RoPE anchor layout ({'each anchor frame from its own moment' if cfg.get('spread_anchors') else 'anchor frames from one moment'}){f"; in {cfg['drifted_context_prob']:.0%} of those clips the local chunks show a drifted identity (another shape) and only the last chunk is trained, so the subject must be read from the anchors" if cfg.get('drifted_context_prob') else ''}{f"; the other batches are contiguous clips of {len(reserved)} frames at positions {reserved[0]}–{reserved[-1]}, leaving the anchor position to anchors" if cfg.get('reserve_anchor_positions') else ''}{f"; in {cfg['own_context_prob']:.0%} of batches the context chunks are the model's own redraw of the rendered ones (noised to sampler steps {tuple(cfg['own_context_start_steps'])} and denoised without gradient{', kept only where the classifier reads the same subject in every redrawn frame' if cfg.get('own_context_keep_subject') else ''}) and only the last chunk is trained" if cfg.get('own_context_prob') else ''}.
- **Objective**: diffusion forcing with the block-causal mask; each chunk is clean (context) with probability
  {cfg['clean_context_prob']} or noised at a Self Forcing inference timestep / a shifted-uniform one; flow-matching
  MSE on the noisy chunks. EMA ({cfg['ema_decay']}) weights shipped. The subject's box is
  {SUBJECT_SIZE_FRACTION:.0%} of the frame's side (under {SUBJECT_SIZE_FRACTION**2:.0%} of its pixels), so its pixels weigh {cfg['vae_subject_loss_weight']:g}× in the VAE loss and its latent cells {cfg['subject_loss_weight']:g}× in the DiT loss.
- **Steps**: VAE {cfg['vae_steps']} × batch {cfg['vae_batch']}; DiT {cfg['dit_steps']} × batch {cfg['dit_batch']}
  ({'bf16 autocast' if cfg.get('bf16_autocast') else 'fp32'} forward/backward; fp32 weights, optimizer and EMA).
- **Result**: VAE round-trip mean absolute error {report['vae_mean_abs_error_grey_levels']} grey levels; final DiT
  loss {report['final_dit_loss']:.4f}.
- **Time**: VAE {report['vae_seconds']} s, DiT {report['dit_seconds']} s, total {report['total_seconds']} s on
  {report['machine']} ({report['date']}).
- **Reproduce**: {_reproduce_command(cfg)} (same seed, same data; the same weights on the same
  kind of CPU with the same library versions, while another CPU model rounds differently and trains a model that
  differs in its weights and measured quality; the default `--precision auto` picks bf16 only where the CPU computes
  it natively).

![loss](loss.png)
"""
    (out_dir / "MODEL_CARD.md").write_text(card)
    (out_dir / "train_report.json").write_text(json.dumps(report, indent=2))
