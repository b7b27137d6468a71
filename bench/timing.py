"""How every figure is timed: warm-up first, then the median of repeats.

The first calls are warm-up and are not timed, so Numba compilation, CuPy kernel loading and
allocator growth never count. Each repeat runs the step enough times to last a measurable
while, and `synchronize` is called before the clock starts and before it stops, so queued
GPU work is inside the timed region. The garbage collector is off while timing, as `timeit`
does it.
"""

import gc
import math
import statistics
import time
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Timing:
    """Seconds per call of one step: the median of the repeats, and the fastest and slowest."""

    median: float
    min: float
    max: float
    repeats: int
    calls_per_repeat: int

    def as_dict(self):
        return asdict(self)


@dataclass(frozen=True)
class Budget:
    """How long a measurement may take: `repeats` repeats of at least `repeat_seconds` each,
    fewer (never under three) when one call alone would overrun `total_seconds`; and how
    long to profile a step whose target was missed."""

    repeats: int
    repeat_seconds: float
    total_seconds: float
    profile_seconds: float
    warmup_calls: int = 2


QUICK = Budget(repeats=5, repeat_seconds=0.02, total_seconds=0.6, profile_seconds=1.0)
FULL = Budget(repeats=11, repeat_seconds=0.1, total_seconds=4.0, profile_seconds=3.0)


def _no_sync():
    pass


def measure(step, budget, synchronize=None):
    """Time `step()` under `budget`; `synchronize()` waits for the device (GPU work)."""
    sync = synchronize or _no_sync
    for _ in range(budget.warmup_calls - 1):
        step()
    sync()
    start = time.perf_counter()
    step()
    sync()
    one_call = max(time.perf_counter() - start, 1e-9)

    calls = max(1, math.ceil(budget.repeat_seconds / one_call))
    affordable = int(budget.total_seconds / (one_call * calls))
    repeats = max(3, min(budget.repeats, affordable))

    samples = []
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            sync()
            start = time.perf_counter()
            for _ in range(calls):
                step()
            sync()
            samples.append((time.perf_counter() - start) / calls)
    finally:
        if was_enabled:
            gc.enable()
    return Timing(median=statistics.median(samples), min=min(samples), max=max(samples),
                  repeats=repeats, calls_per_repeat=calls)
