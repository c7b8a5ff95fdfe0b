"""One `gf eval long --json` over stream seeds 0-31, read as seeds 0-15 (the set every earlier training was
scored on), 16-31 (held out) and all 32: each policy's consistency, late consistency, drift and extra_subject, and
grounded against self_forcing paired by seed; then the seeds where grounded draws a second subject most.

Run from the repository root: python split_seeds.py EVAL_JSON
"""
import json
import statistics
import sys

METRICS = ("consistency", "consistency_late", "drift", "extra_subject")  # drift, extra_subject: lower is better
result = json.load(open(sys.argv[1]))
seeds: list[int] = result["seeds"]
per_seed: dict[str, dict[str, list[float]]] = result["per_seed"]
seed_sets = {"seeds 0-15": [i for i, s in enumerate(seeds) if s < 16],
             "seeds 16-31": [i for i, s in enumerate(seeds) if s >= 16], f"all {len(seeds)}": list(range(len(seeds)))}

print("| seeds | policy | " + " | ".join(METRICS) + " |")
print("|---|---|" + "---|" * len(METRICS))
for set_name, rows in seed_sets.items():
    for policy, values in per_seed.items():
        cells = " | ".join(f"{statistics.mean(values[m][i] for i in rows):.3f}" for m in METRICS)
        print(f"| {set_name} | {policy} | {cells} |")

print("\ngrounded - self_forcing, paired by seed (mean ± standard error; on how many seeds grounded is better):\n")
for set_name, rows in seed_sets.items():
    cells = []
    for metric in METRICS[:3]:
        diff = [per_seed["grounded"][metric][i] - per_seed["self_forcing"][metric][i] for i in rows]
        better = sum((d < 0) if metric == "drift" else (d > 0) for d in diff)
        err = statistics.stdev(diff) / len(diff) ** 0.5
        cells.append(f"{metric} {statistics.mean(diff):+.3f} ± {err:.3f} ({better}/{len(diff)})")
    print(f"- {set_name}: " + "; ".join(cells))

worst = sorted(range(len(seeds)), key=lambda i: -per_seed["grounded"]["extra_subject"][i])[:5]
print("\ngrounded's largest extra_subject: " + ", ".join(
    f"seed {seeds[i]} {per_seed['grounded']['extra_subject'][i]:.3f}" for i in worst))
