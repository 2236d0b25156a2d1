"""Keep freed frame buffers in the process heap instead of returning them to the kernel.

A frame allocates and frees tens of MB of arrays (rays, hits, shading points, images; in the
writer process, each payload's copy). With
glibc's defaults, blocks over the dynamic mmap threshold are fresh mappings and a heap top over
the trim threshold is released, so every frame page-faults its buffers in again; on the 2-core
reference VM that cost ~25% of a frame (bench/bench_render.py, 156–174 → 124–134 ms). Raising
both thresholds makes later frames reuse the same pages. Only glibc has ``mallopt``; elsewhere
this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

__all__ = ["retain_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX_B = 32 * 1024 * 1024  # glibc's ceiling on 64-bit (HEAP_MAX_SIZE / 2)
_TRIM_THRESHOLD_B = 512 * 1024 * 1024
_TOP_PAD_B = 64 * 1024 * 1024

_log = logging.getLogger(__name__)
_done = False


def retain_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if glibc accepted them."""
    global _done
    if _done:
        return True
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None:
        _log.debug("no mallopt in this C library; allocator left at its defaults")
        return False
    ok = all(
        mallopt(option, value) == 1
        for option, value in (
            (_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX_B),
            (_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_B),
            (_M_TOP_PAD, _TOP_PAD_B),
        )
    )
    _done = ok
    return ok
