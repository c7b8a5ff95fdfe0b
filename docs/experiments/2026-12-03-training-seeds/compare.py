"""How much of a policy comparison is the training run: the same `gf eval long --json` on models trained by one
recipe with different `--seed`s, side by side.

Run from the repository root: python compare.py POLICY_A POLICY_B NAME=EVAL_JSON ... (each EVAL_JSON the
`eval_long.json` of one trained model, all on the same schedule and stream seeds).
Prints, per trained model, POLICY_A's and POLICY_B's consistency, late consistency and drift with the paired
difference over stream seeds (mean ± standard error, and on how many stream seeds A is better); then, over the
trained models, the mean and standard deviation of each policy's mean and of the difference. The stream seeds'
spread says how sure one model's figure is; the trained models' spread says how far another training of the same
recipe would move it.
"""
import json
import statistics
import sys

METRICS = ("consistency", "consistency_late", "drift")  # drift: lower is better
policy_a, policy_b = sys.argv[1], sys.argv[2]
runs = dict(arg.split("=", 1) for arg in sys.argv[3:])


def a_is_better(metric: str, a_minus_b: float) -> bool:
    return a_minus_b < 0 if metric == "drift" else a_minus_b > 0

per_model: dict[str, dict[str, tuple[float, float, float]]] = {}  # model -> metric -> (mean A, mean B, mean A-B)
print(f"| model | metric | {policy_a} | {policy_b} | paired difference | {policy_a} better on |")
print("|---|---|---|---|---|---|")
for name, path in runs.items():
    per_seed = json.load(open(path))["per_seed"]
    per_model[name] = {}
    for metric in METRICS:
        a, b = per_seed[policy_a][metric], per_seed[policy_b][metric]
        diff = [x - y for x, y in zip(a, b)]
        err = statistics.stdev(diff) / len(diff) ** 0.5
        better = sum(a_is_better(metric, d) for d in diff)
        per_model[name][metric] = (statistics.mean(a), statistics.mean(b), statistics.mean(diff))
        print(f"| {name} | {metric} | {statistics.mean(a):.3f} | {statistics.mean(b):.3f} | "
              f"{statistics.mean(diff):+.3f} ± {err:.3f} | {better}/{len(diff)} |")

if len(per_model) > 1:
    print(f"\nOver {len(per_model)} trained models (mean ± standard deviation of the models' means):\n")
    print(f"| metric | {policy_a} | {policy_b} | difference | models where {policy_a} is better |")
    print("|---|---|---|---|---|")
    for metric in METRICS:
        cols = list(zip(*(per_model[name][metric] for name in per_model)))
        wins = sum(a_is_better(metric, d) for d in cols[2])
        cells = " | ".join(f"{statistics.mean(c):.3f} ± {statistics.stdev(c):.3f}" for c in cols)
        print(f"| {metric} | {cells} | {wins}/{len(per_model)} |")
