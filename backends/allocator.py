"""Keeping freed array memory in the process, so that a large op does not page-fault.

glibc's malloc serves every block over 128 KiB (rising to at most 32 MiB as it sees blocks
freed) with a fresh `mmap`, and hands it back to the kernel on `free`. An eager op on a 16 MB
array therefore takes a page fault per 4 KiB page of its result, every time: a 4M-element
float32 chain spent more than half its time in the kernel zeroing pages. Disabling those
`mmap`s and raising the trim threshold makes freed blocks stay in malloc's heap, where the next
op's result of the same size finds them, already mapped. Nothing is kept alive: an array is
freed when its last reference goes, exactly as before; only the address space it used stays
with the process, for reuse (as PyTorch's caching allocator does).

The setting is process-wide and made once, when a CPU backend is created. It applies only
where the C library is glibc (Linux); elsewhere it is a no-op. `AUTOGRAD_MALLOC=default`
in the environment leaves malloc as it is.
"""

import ctypes
import os
import platform
import sys

# mallopt's parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4

# Free memory at the top of the heap is returned to the kernel only past this much (the
# largest value mallopt takes): a training step's arrays are freed and allocated again every
# step, so the heap stays at the peak of one step.
TRIM_THRESHOLD = 2**31 - 1

_state = {"tuned": None}


def keep_freed_memory():
    """Make glibc's malloc keep and reuse freed array memory (see the module docstring).
    Returns whether the setting is in effect; safe to call any number of times."""
    if _state["tuned"] is None:
        _state["tuned"] = _tune()
    return _state["tuned"]


def _tune():
    if os.environ.get("AUTOGRAD_MALLOC", "").lower() == "default":
        return False
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success, 0 on an out-of-range value.
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
