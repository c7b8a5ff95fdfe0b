"""Checkpoints: gf's own (safetensors + the pipeline spec) and Wan / Self Forcing / LongLive files.

Loading is all-or-nothing: the state dict is checked against the model (missing, unexpected and mis-shaped
keys, all named in one error) before a single tensor is copied.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from gf_runtime.config import PipelineSpec

FORMAT_VERSION = 1
METADATA_FORMAT_KEY = "gf_format_version"
METADATA_SPEC_KEY = "gf_pipeline_spec"
GENERATOR_KEYS = ("generator_ema", "generator")  # Self Forcing / LongLive training checkpoints
WRAPPER_FRAGMENTS = ("_fsdp_wrapped_module.", "_checkpoint_wrapped_module.", "_orig_mod.")
MODEL_PREFIXES = ("base_model.model.", "model.")
LORA_PATTERN = re.compile(r"^(?P<target>.+)\.lora_(?P<part>[AB])(?:\.default)?\.weight$")
MAX_NAMED_KEYS = 12


class CheckpointError(ValueError):
    """A checkpoint that does not fit the model; nothing was loaded."""


def read_tensors(path: str | Path) -> dict[str, object]:
    """Read a ``.safetensors`` or torch ``.pt``/``.pth``/``.bin`` file (tensors only, no pickled code)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist or is not a file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return dict(load_file(str(path)))
    if path.suffix in (".pt", ".pth", ".bin", ".ckpt"):
        try:
            return torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - report any unreadable file the same way
            raise CheckpointError(f"cannot read {path} as a torch checkpoint of tensors: {exc}") from exc
    raise CheckpointError(f"unknown checkpoint type {path.suffix!r} for {path}; use .safetensors or .pt")


def _normalise_key(key: str) -> str:
    for fragment in WRAPPER_FRAGMENTS:
        key = key.replace(fragment, "")
    stripped = True
    while stripped:  # e.g. "model.base_model.model.blocks…" from a wrapper's state dict
        stripped = False
        for prefix in MODEL_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix) :]
                stripped = True
    return key


def extract_generator_state(raw: Mapping[str, object], prefer_ema: bool = True) -> dict[str, torch.Tensor]:
    """The DiT's state dict from a plain state dict or a Self Forcing / LongLive file.

    Picks ``generator_ema`` (or ``generator``; order by ``prefer_ema``), strips ``model.`` prefixes and FSDP /
    checkpoint / compile wrapper fragments.
    """
    if not isinstance(raw, Mapping):
        raise CheckpointError(f"expected a state dict (a mapping of names to tensors), got {type(raw).__name__}")
    order = GENERATOR_KEYS if prefer_ema else tuple(reversed(GENERATOR_KEYS))
    nested = next((raw[k] for k in order if isinstance(raw.get(k), Mapping)), None)
    if nested is None and isinstance(raw.get("state_dict"), Mapping):
        nested = raw["state_dict"]
    source = nested if nested is not None else raw
    state: dict[str, torch.Tensor] = {}
    for key, value in source.items():  # type: ignore[union-attr]
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"entry {key!r} is a {type(value).__name__}, not a tensor; expected a state dict "
                f"(optionally under one of {GENERATOR_KEYS})"
            )
        state[_normalise_key(key)] = value
    return state


def _named(keys: list[str]) -> str:
    shown = ", ".join(keys[:MAX_NAMED_KEYS])
    return shown + (f", … ({len(keys) - MAX_NAMED_KEYS} more)" if len(keys) > MAX_NAMED_KEYS else "")


def check_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Raise one CheckpointError naming every missing, unexpected and mis-shaped key."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    misshaped = sorted(
        f"{k} (checkpoint {tuple(state[k].shape)}, model {tuple(expected[k].shape)})"
        for k in set(expected) & set(state)
        if tuple(state[k].shape) != tuple(expected[k].shape)
    )
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing: {_named(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected: {_named(unexpected)}")
    if misshaped:
        problems.append(f"{len(misshaped)} mis-shaped: {_named(misshaped)}")
    if problems:
        raise CheckpointError(
            f"{source} does not fit the model; nothing was loaded. " + "; ".join(problems)
            + ". Check that the model preset matches the checkpoint (e.g. wan2.1-t2v-1.3b for Self Forcing)."
        )


def merge_lora(
    state: dict[str, torch.Tensor], lora: Mapping[str, torch.Tensor], alpha: float, scale: float = 1.0
) -> dict[str, torch.Tensor]:
    """Merge a PEFT-format LoRA: W ← W + scale·(alpha/rank)·B·A for every ``X.lora_A/B.weight`` pair.

    Returns a new state dict; raises CheckpointError if a LoRA target is not in ``state`` or a pair is broken.
    """
    parts: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in lora.items():
        match = LORA_PATTERN.match(_normalise_key(key))
        if match is None:
            continue
        parts.setdefault(match["target"], {})[match["part"]] = value
    if not parts:
        raise CheckpointError("no lora_A / lora_B weights found in the LoRA state dict")
    merged = dict(state)
    for target, pair in sorted(parts.items()):
        weight_key = f"{target}.weight"
        if set(pair) != {"A", "B"}:
            raise CheckpointError(f"LoRA for {target} has only lora_{''.join(pair)}; both A and B are needed")
        if weight_key not in merged:
            raise CheckpointError(f"LoRA targets {weight_key}, which the base state dict does not have")
        a_rk, b_or = pair["A"].float(), pair["B"].float()
        rank = a_rk.shape[0]
        delta = (b_or @ a_rk) * (scale * alpha / rank)
        base = merged[weight_key]
        if delta.shape != base.shape:
            raise CheckpointError(f"LoRA delta {tuple(delta.shape)} does not fit {weight_key} {tuple(base.shape)}")
        merged[weight_key] = (base.float() + delta).to(base.dtype)
    return merged


def load_weights(model: nn.Module, state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Check, then copy every tensor (cast to the model's dtype and device). Never loads half-way."""
    check_state_dict(model, state, source)
    reference = model.state_dict()
    converted = {k: v.to(dtype=reference[k].dtype) for k, v in state.items()}
    model.load_state_dict(converted, strict=True)


def save_checkpoint(path: str | Path, model: nn.Module, spec: PipelineSpec) -> None:
    """A gf checkpoint: safetensors weights with the pipeline spec in the metadata (loading rebuilds it)."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    metadata = {METADATA_FORMAT_KEY: str(FORMAT_VERSION), METADATA_SPEC_KEY: json.dumps(spec.to_dict())}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)


def read_checkpoint_spec(path: str | Path) -> PipelineSpec | None:
    """The pipeline spec stored in a gf checkpoint, or None for a file without one (e.g. a Wan checkpoint)."""
    path = Path(path)
    if path.suffix != ".safetensors":
        return None
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if METADATA_SPEC_KEY not in metadata:
        return None
    version = metadata.get(METADATA_FORMAT_KEY, "0")
    if version != str(FORMAT_VERSION):
        raise CheckpointError(
            f"{path} has gf format version {version}; this runtime reads version {FORMAT_VERSION}"
        )
    return PipelineSpec.from_dict(json.loads(metadata[METADATA_SPEC_KEY]))


def save_tagged(path: str | Path, module: nn.Module, format_name: str, config: dict[str, object]) -> None:
    """Save a small module's weights as safetensors with a format tag and its constructor config."""
    from safetensors.torch import save_file

    metadata = {"format": format_name, "config": json.dumps(config)}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}, str(path), metadata=metadata)


def read_tagged(path: str | Path, format_name: str, what: str) -> tuple[dict[str, torch.Tensor], dict[str, object]]:
    """Read what ``save_tagged`` wrote: (tensors, config). Wrong or missing files are a CheckpointError."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{what} weights {path} do not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise CheckpointError(f"cannot read {path} as safetensors ({what}): {exc}") from exc
    if metadata.get("format") != format_name:
        raise CheckpointError(
            f"{path} is not a {what} (format {metadata.get('format')!r}, expected {format_name!r})"
        )
    return tensors, json.loads(metadata["config"])
