"""Overlay this experiment's DiT loss on the third training's (the default it was compared with, shipped until
2026-12-03, read from git at 6874096): python docs/experiments/2026-12-03-reserved-full/plot_loss.py"""
import json, subprocess
from pathlib import Path
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

here = Path(__file__).parent
third = subprocess.run(["git", "show", "6874096:gf_runtime/assets/default/train_log.json"], check=True,
                       capture_output=True, text=True).stdout
runs = {"third training (shipped until 2026-12-03)": json.loads(third)["dit"],
        "reserve_anchor_positions=True": json.loads((here / "train_log.json").read_text())["dit"]}
fig, ax = plt.subplots(figsize=(6, 3.8))
for name, log in runs.items():
    ax.plot([r["step"] for r in log], [r["loss"] for r in log], linewidth=1, label=f"{name}: final {log[-1]['loss']:.3f}")
ax.set_yscale("log"); ax.set_xlabel("step"); ax.set_title("DiT flow-matching loss"); ax.grid(alpha=0.3); ax.legend()
fig.tight_layout(); fig.savefig(here / "loss.png", dpi=100)
