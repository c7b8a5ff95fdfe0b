"""Bar chart of segment_ceiling_3seeds.txt: per segment of the standard schedule, the fraction of frames with the
subject's shape right under grounded and self_forcing against the fresh-stream ceiling, one panel per training.

Run from the repository root: python plot_ceilings.py (writes segment_ceiling_3seeds.png beside this file).
"""
import re
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

here = Path(__file__).parent
models: dict[str, dict[str, list[float]]] = {}
segments: list[str] = []
model, in_totals = None, False
for line in (here / "segment_ceiling_3seeds.txt").read_text().splitlines():
    if line.startswith("### "):
        model = {"/work/rf/seeds/s1": "seed 1", "/work/rf/seeds/s2": "seed 2"}.get(line[4:], "seed 0 (shipped)")
        models[model], in_totals = {}, False
    elif line.startswith("all chunks"):
        in_totals = True  # the rows below are whole-stream totals, not a segment
    elif line.startswith("chunks") and len(models) == 1:  # every model plays the same segments
        m = re.search(r"'by day a red ball (.*) in the (\w+) with", line)
        segments.append(f"{m.group(2)}\n{m.group(1)}")
    elif line.startswith("    ") and not in_totals:
        name, *fields = line.split()
        models[model].setdefault(name, []).append(float(fields[-1]))  # the shape column
names = ("grounded", "self_forcing", "ceiling")
fig, axes = plt.subplots(1, len(models), figsize=(15, 4), sharey=True)
x = np.arange(len(segments))
for ax, (label, rows) in zip(axes, sorted(models.items())):
    for k, name in enumerate(names):
        ax.bar(x + (k - 1) * 0.27, rows[name], width=0.27, label=name)
    ax.set_title(label)
    ax.set_xticks(x, segments, fontsize=7)
axes[0].set_ylabel("frames with the shape right")
axes[0].legend(fontsize=8, loc="lower left")
fig.tight_layout()
fig.savefig(here / "segment_ceiling_3seeds.png", dpi=90)
