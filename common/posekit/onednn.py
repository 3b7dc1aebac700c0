"""A guard against a oneDNN performance cliff on AMD CPUs with AVX-512.

MindSpore 2.10 runs CPU convolutions through oneDNN 3.10. On an AMD EPYC with AVX-512 (Zen 4)
oneDNN picks its reference kernel for them (`jit_uni_ncsp:conv+ref:any` in ONEDNN_VERBOSE): a
3x3 convolution, 64 to 64 channels, on 16x64x56x56 took 3.5-4.5 s, and PoseNet's demo trained at
3.7 images/s instead of about 58. Capped at AVX2 (`ONEDNN_MAX_CPU_ISA=AVX2`) the same convolution
runs through `x64:gemm:jit` in 36 ms. oneDNN reads the variable when it creates its first
primitive, so setting it when posekit is imported is early enough; a value the user set stays.
"""

from __future__ import annotations

import os
from typing import MutableMapping

CAP = "AVX2"


def _cpu(cpuinfo_path: str):
    """(vendor, flags) of the first processor in a /proc/cpuinfo-style file, or None."""
    try:
        with open(cpuinfo_path) as f:
            text = f.read()
    except OSError:
        return None
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    return fields.get("vendor_id", ""), set(fields.get("flags", "").split())


def cap_isa_on_amd_avx512(
    environ: MutableMapping[str, str] = os.environ, cpuinfo_path: str = "/proc/cpuinfo"
) -> bool:
    """Set ONEDNN_MAX_CPU_ISA=AVX2 on an AMD CPU with AVX-512 unless already set; True if set."""
    if "ONEDNN_MAX_CPU_ISA" in environ or "DNNL_MAX_CPU_ISA" in environ:
        return False
    cpu = _cpu(cpuinfo_path)
    if cpu is None or cpu[0] != "AuthenticAMD" or "avx512f" not in cpu[1]:
        return False
    environ["ONEDNN_MAX_CPU_ISA"] = CAP
    return True
