"""Overlay this experiment's DiT loss on the shipped model's: python docs/experiments/2026-12-03-reserved-full/plot_loss.py"""
import json
from pathlib import Path
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

here = Path(__file__).parent
runs = {"shipped (third training)": json.loads(Path("gf_runtime/assets/default/train_log.json").read_text())["dit"],
        "reserve_anchor_positions=True": json.loads((here / "train_log.json").read_text())["dit"]}
fig, ax = plt.subplots(figsize=(6, 3.8))
for name, log in runs.items():
    ax.plot([r["step"] for r in log], [r["loss"] for r in log], linewidth=1, label=f"{name}: final {log[-1]['loss']:.3f}")
ax.set_yscale("log"); ax.set_xlabel("step"); ax.set_title("DiT flow-matching loss"); ax.grid(alpha=0.3); ax.legend()
fig.tight_layout(); fig.savefig(here / "loss.png", dpi=100)
