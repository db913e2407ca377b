"""Which float type a CPU multiplies fastest: bf16 where the CPU has bf16 dot-product instructions.

On a CPU with AVX512-BF16 (AMD Zen 4/5, Intel Cooper Lake) or AMX (Intel Sapphire Rapids and later), oneDNN
runs bf16 matrix products at about 4x the fp32 rate (measured on this project's 2-core Zen machine: ~1,000
against ~240 GFLOP/s); elsewhere bf16 is emulated and slower than fp32. Training, local generation and the
E5 embedder ask here. WORKBENCH_CPU_BF16=0 forces fp32 (=1 forces bf16).
"""
from __future__ import annotations

import os

ENV = "WORKBENCH_CPU_BF16"
_CHECKS = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")


def cpu_bf16_native() -> bool:
    """True when this CPU computes bf16 products natively (or WORKBENCH_CPU_BF16 says so)."""
    forced = os.environ.get(ENV, "").strip().lower()
    if forced in ("0", "false", "no", "off"):
        return False
    if forced in ("1", "true", "yes", "on"):
        return True
    import torch

    probes = [getattr(torch.cpu, name, None) for name in _CHECKS]
    return any(bool(probe()) for probe in probes if probe is not None)


def cpu_dtype():
    """The torch float type CPU models run in: bfloat16 where native, else float32."""
    import torch

    return torch.bfloat16 if cpu_bf16_native() else torch.float32
