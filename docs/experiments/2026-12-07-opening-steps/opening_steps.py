"""Does sampling a stream's opening chunk (nothing in memory yet) with more steps, or along the flow, stop it from
drawing two subjects? The embedded models are trained by flow matching only (not distilled to four steps, as Self
Forcing's are), so four re-noised steps from pure noise ending at σ = 0.625 may leave the subject's place undecided.
Later chunks copy the subject from memory and keep the shipped four steps.

For each model and sampler variant (the opening chunk's steps and solver), over stream seeds 0..N-1 of three
opening prompts: the share of opening chunks with a frame showing two or more subjects of the prompted colour, the
share of frames showing exactly one, and the opening chunk's time. With EVAL=1 also the bar's schedule (grounded
and self_forcing, seeds 0..31): consistency and extra_subject per variant. EVAL_JSON_DIR=DIR writes each
variant's whole report (per seed too) to DIR/MODEL_VARIANT.json.

Run from the repository root:
  python docs/experiments/2026-12-07-opening-steps/opening_steps.py N MODEL [MODEL ...]
"""
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from gf_runtime import load_pipeline
from gf_runtime.engine.events import load_schedule
from gf_runtime.sampling.sampler import ChunkSampler
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.evaluate import count_subjects, evaluate_long_seeds
from gf_runtime.world.prompt import parse_prompt

OPENINGS = ("a red ball bouncing in the grassland by day with a static camera",  # the standard schedule's
            "a blue cube bouncing in the grassland by day with a static camera",
            "a red ball still in the grassland by day with a static camera")


def even_steps(n: int) -> tuple[float, ...]:
    """n timesteps evenly spaced over (0, 1000], before the shift's warp (four gives the shipped 1000..250)."""
    return tuple(1000.0 * (n - i) / n for i in range(n))


VARIANTS = {  # name: (opening steps, solver)
    "shipped: 4 re-noised": ((), "renoise"),
    "8 re-noised": (even_steps(8), "renoise"),
    "16 re-noised": (even_steps(16), "renoise"),
    "8 euler": (even_steps(8), "euler"),
    "16 euler": (even_steps(16), "euler"),
}
n_seeds = int(sys.argv[1])
run_eval = os.environ.get("EVAL") == "1"
variants = {k: v for k, v in VARIANTS.items() if k in os.environ.get("VARIANTS", ",".join(VARIANTS)).split(",")}
for model in sys.argv[2:]:
    pipe = load_pipeline(model)
    shipped = pipe.sampler
    for name, (steps, solver) in variants.items():
        config = dataclasses.replace(pipe.spec.sampler, opening_denoising_steps=steps, opening_solver=solver)
        pipe.sampler = ChunkSampler(shipped.model, config, shipped.shape)
        for opening in OPENINGS:
            attrs = parse_prompt(opening)
            counts_sf, seconds = [], []
            for seed in range(n_seeds):
                with pipe.session(prompt=opening, seed=seed) as session:
                    start = time.perf_counter()
                    frames = session.next_chunk().frames  # (F, H, W, 3)
                    seconds.append(time.perf_counter() - start)
                counts_sf.append([count_subjects(f, attrs.color, attrs.night, attrs.biome) for f in frames])
            counts = np.array(counts_sf)
            doubled = np.flatnonzero((counts >= 2).any(axis=1)).tolist()
            print(f"{model} | {name} | {opening!r} | doubled openings {len(doubled) / n_seeds:.1%} (seeds "
                  f"{doubled[:10]}) | frames with one subject {(counts == 1).mean():.1%} | opening chunk "
                  f"{np.median(seconds) * 1000:.0f} ms", flush=True)
        if run_eval:
            report = evaluate_long_seeds(pipe, load_classifier(), load_schedule(Path("examples/eval_schedule.json")),
                                         ("grounded", "self_forcing"), seeds=range(32), progress=False)
            scores = {p: {m: round(v, 3) for m, v in r.items() if m in ("consistency", "consistency_late", "drift",
                                                                         "extra_subject")}
                      for p, r in report["policies"].items()}  # type: ignore[union-attr]
            print(f"{model} | {name} | standard schedule, 32 seeds | {json.dumps(scores)}", flush=True)
            if os.environ.get("EVAL_JSON_DIR"):  # the whole report, per seed too (split_seeds.py reads it)
                out = Path(os.environ["EVAL_JSON_DIR"]) / f"{Path(model).name}_{name.replace(' ', '_')}.json"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(json.dumps(report, default=float))
    pipe.sampler = shipped
