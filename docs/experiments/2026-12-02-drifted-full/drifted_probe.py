"""Does a model read the anchors when its local context shows the wrong subject? (training-distribution probe)

Run from the repository root: python drifted_probe.py MODEL_DIR [N_CLIPS]. Draws anchor-layout clips as training
does, with and without drifted local chunks, denoises the last chunk with the 4-step sampler (every other chunk
clean context, block-causal mask, DR-RoPE positions), decodes it and asks the frame classifier for the subject's
shape. Prints, for clips whose last prompt does not name the shape (so only the frames tell), the fraction of
frames drawn with the true (anchor) shape and with the drifted (local) shape.
"""
import dataclasses
import sys
import numpy as np
import torch
from gf_runtime.model.checkpoint import load_weights, read_tensors
from gf_runtime.model.dit import CausalWanDiT
from gf_runtime.sampling.schedule import predict_x0, renoise
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.clips import clip_positions, sample_clip
from gf_runtime.world.files import MODEL_FILE, TEXT_FILE, VAE_FILE
from gf_runtime.world.prompt import SHAPES
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.train import WORLD_RECIPES, _text_batch
from gf_runtime.world.vae import TinyVae

torch.set_num_threads(2)
model_dir = sys.argv[1]
n_clips = int(sys.argv[2]) if len(sys.argv) > 2 else 96
cfg = WORLD_RECIPES["default-2026-11-25"]
spec = cfg.spec()
model = CausalWanDiT(spec.model).eval()
load_weights(model, read_tensors(f"{model_dir}/{MODEL_FILE}"))
encoder = WorldTextEncoder.load(f"{model_dir}/{TEXT_FILE}").eval()
vae = TinyVae.load(f"{model_dir}/{VAE_FILE}")
classifier = load_classifier()
F, C = cfg.horizon_frames, cfg.chunk_frames
frame_pos = torch.tensor(clip_positions(F, C, True))


def last_chunk_shapes(drifted: bool, seed: int) -> tuple[int, int, int]:
    """(frames with the true shape, frames with the local chunks' shape, frames) over clips not naming the shape."""
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    true_hits = local_hits = total = 0
    for _ in range(n_clips):
        clip = sample_clip(rng, F, C, True, cfg.switch_prob, drifted_context=drifted)
        if any(s in clip.chunk_prompts[-1] for s in SHAPES):
            continue
        with torch.no_grad():
            x0 = vae.encode(clip.frames[None]).float()  # (1, F, c, h, w)
            text = _text_batch(encoder, [clip])
            x = x0.clone()
            noise = torch.randn(x0[:, -C:].shape, generator=gen)
            x[:, -C:] = noise
            sigmas = spec.sampler.sigmas
            for t, sigma, next_sigma in zip(spec.sampler.timesteps, sigmas, (*sigmas[1:], 0.0)):
                t_f = torch.zeros(1, F)
                t_f[:, -C:] = float(t)
                flow = model(x, t_f, text, chunk_frames=C, frame_pos_f=frame_pos)
                pred_x0 = predict_x0(x[:, -C:], flow[:, -C:], sigma)
                # the last step re-noises to sigma 0 (the clean prediction) and still draws, as the EVAL.md run did
                x[:, -C:] = renoise(pred_x0, torch.randn(pred_x0.shape, generator=gen), next_sigma)
            frames = vae.decode(x[:, -C:])[0]
        shape_true = classifier.predict(clip.frames[:C]).shape  # the anchors' subject
        shape_local = classifier.predict(clip.frames[C:2 * C]).shape
        got = classifier.predict(frames).shape
        true_hits += int((got == shape_true).sum())
        local_hits += int((got == shape_local).sum()) if drifted else 0
        total += len(got)
    return true_hits, local_hits, total


for drifted in (False, True):
    t, l, n = last_chunk_shapes(drifted, seed=123)
    print(f"{model_dir} drifted={drifted}: frames {n}, true shape {t / n:.3f}, local shape {l / n:.3f}")
