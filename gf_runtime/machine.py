"""What the machine a figure was measured on is: the one place benchmarks and training reports describe it."""

from __future__ import annotations

import platform

import torch


def cpu_computes_bf16_natively() -> bool:
    """Whether this CPU has bf16 matrix instructions (AVX512-BF16 or AMX); without them torch emulates bf16."""
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def machine_description(device: torch.device) -> str:
    """The device's name; for a CPU also its vector ISA, since CPU figures differ ~3x between AVX2 and AVX512
    machines of the same core count, and bf16 is fast only where it is native."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    isa = torch.backends.cpu.get_cpu_capability() + (", native bf16" if cpu_computes_bf16_natively() else "")
    return f"{platform.processor() or platform.machine()} CPU ({isa}), {torch.get_num_threads()} threads"
