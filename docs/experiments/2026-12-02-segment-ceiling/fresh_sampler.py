"""Fresh-prompt shape accuracy under other samplers than the checkpoint's own (4 steps, shift 5).

Run from the repository root: python fresh_sampler.py MODEL_DIR. For five prompts that name the biome, subject and
motion (not the time of day or the camera), 6 seeds, the first horizon's chunks of a `self_forcing` stream (one training horizon): the fraction of frames whose
subject the classifier reads as the prompted shape.
"""
import dataclasses, math, sys, numpy as np, torch
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.engine.stream import run_stream
from gf_runtime.sampling.sampler import ChunkSampler
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.prompt import SHAPES, parse_prompt
torch.set_num_threads(2)
pipe = load_pipeline(sys.argv[1])
clf = load_classifier()
shipped = pipe.spec.sampler
variant = lambda **changes: dataclasses.replace(shipped, **changes)  # noqa: E731  the checkpoint's sampler, changed
horizon_chunks = math.ceil(pipe.spec.horizon_frames / shipped.chunk_frames)
variants = {
 "shipped 4 steps shift5": variant(),
 "4 steps shift1 (1000..250)": variant(shift=1.0),
 "8 steps shift5": variant(denoising_steps=(1000, 875, 750, 625, 500, 375, 250, 125)),
 "8 steps shift1": variant(denoising_steps=(1000, 875, 750, 625, 500, 375, 250, 125), shift=1.0),
 "4 steps shift5 to 100": variant(denoising_steps=(1000, 500, 250, 100)),
}
prompts = ["a red ball still in the grassland", "a red ball moving left in the snow", "a blue cube bounces in the desert", "a yellow star bounces in the city", "a green triangle bounces in the ocean"]
for name, cfg in variants.items():
    pipe.sampler = ChunkSampler(pipe.chunk_model, cfg, pipe.sampler.shape)
    res = []
    for pr in prompts:
        want = SHAPES.index(parse_prompt(pr).shape)
        f = []
        for seed in range(6):
            run_stream(pipe, pr, horizon_chunks, seed=seed, memory=pipe.memory_config("self_forcing"), on_chunk=lambda c: f.append(c.frames), progress=False)
        p = clf.predict(np.concatenate(f))
        res.append((p.shape == want).mean())
    print(f"{name:30s}", " ".join(f"{r:.2f}" for r in res), f"mean {np.mean(res):.3f}", flush=True)
