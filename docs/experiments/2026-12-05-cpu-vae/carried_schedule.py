"""A schedule whose every event restates the whole prompt so far: each event's words merged over the ones before
(`WorldPrompt.merged_over`), so "the desert" after "a red ball bouncing in the grassland ..." becomes "by day a red
ball bounces in the desert with a static camera". The world it asks for is the same; only the text conditioning
the model now names the subject after every switch (EVAL.md, "An eighth training": the carried-over prompts).

Run from the repository root: python docs/experiments/2026-12-05-cpu-vae/carried_schedule.py SCHEDULE OUT
"""
import json
import sys

from gf_runtime.world.prompt import parse_prompt

events = json.load(open(sys.argv[1]))
state = None
carried = []
for event in events:
    named = parse_prompt(event["text"])
    state = named if state is None else named.merged_over(state)
    carried.append({**event, "text": state.text()})
with open(sys.argv[2], "w") as f:
    json.dump(carried, f, indent=1)
