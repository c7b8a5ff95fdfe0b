"""Two fine-tunes of one model, policy by policy: paired differences over the stream seeds.

Run: python paired.py A_EVAL_JSON B_EVAL_JSON (two `gf eval long --json` outputs, same schedule and seeds).
Prints, for each policy in both and each metric, A's and B's means, the paired difference A − B (mean ± standard
error over stream seeds) and on how many seeds A is higher and lower. Drift: lower is better.
"""
import json
import sys

import numpy as np

METRICS = ("consistency", "consistency_late", "identity", "drift")
a, b = (json.load(open(path)) for path in sys.argv[1:3])
for policy in a["per_seed"]:
    if policy not in b["per_seed"]:
        continue
    for metric in METRICS:
        x, y = np.array(a["per_seed"][policy][metric]), np.array(b["per_seed"][policy][metric])
        d = x - y
        print(f"{policy:22s} {metric:17s} {x.mean():.3f} vs {y.mean():.3f}  diff {d.mean():+.3f} ± "
              f"{d.std(ddof=1) / np.sqrt(len(d)):.3f}  A higher on {(d > 0).sum()}/{len(d)}, lower on {(d < 0).sum()}")
