"""How every figure is timed, the way pyperf times a benchmark, in this process.

- Warm-up first: the first calls are not timed, so Numba compilation, CuPy kernel loading and
  allocator growth never count.
- Calibrated loops: the number of calls per repeat doubles until one repeat lasts at least
  `repeat_seconds`, so the clock's resolution and the loop's own cost vanish (pyperf's
  calibration; a single first call is a poor guide when it was slowed down).
- Repeats, then robust statistics: the median of the repeats, their spread as the median
  absolute deviation (scaled to a standard deviation) over the median, and repeats further
  than OUTLIER_MADS deviations from the median left out as outliers (a repeat that another
  process interrupted).
- Interference: how many CPUs other processes kept busy during the measurement (from
  /proc/stat). A figure is *noisy* when that is over BUSY_CPUS, when its spread is over
  SPREAD_LIMIT (pyperf warns from 10%), or when too few repeats are left: such a figure is
  reported with "noisy, rerun", and no target is judged on it.

`synchronize` is called before the clock starts and before it stops, so queued GPU work is
inside the timed region. The garbage collector is off while timing, as `timeit` does it.

Steps whose figures are compared with each other can be timed interleaved
(`measure_interleaved`): one repeat of each in turn, repeat after repeat, so that a change in
the machine's speed during the measurement (another virtual machine on the same host, the
clock frequency) reaches all of them alike instead of whichever was timed at that moment.
"""

import gc
import math
import statistics
import time
from dataclasses import asdict, dataclass, field

from .interference import BUSY_CPUS, OtherWork

SPREAD_LIMIT = 0.10
"""A figure whose repeats spread more than this (relative robust deviation) is noisy."""
OUTLIER_MADS = 4.0
"""Repeats further than this many scaled median absolute deviations from the median are
outliers."""
MIN_KEPT = 3
"""Fewer repeats than this left after dropping outliers make a figure noisy."""
_MAD_TO_SIGMA = 1.4826  # a normal distribution's standard deviation per MAD


@dataclass(frozen=True)
class Timing:
    """Seconds per call of one step: the median of the kept repeats, the fastest and slowest
    of them, their relative spread, what was dropped, and why the figure is noisy (empty
    when it is not)."""

    median: float
    min: float
    max: float
    repeats: int
    calls_per_repeat: int
    spread: float = 0.0
    outliers: int = 0
    others_busy_cpus: float | None = None
    noisy: list = field(default_factory=list)

    def as_dict(self):
        return asdict(self)


@dataclass(frozen=True)
class Budget:
    """How long a measurement may take: `repeats` repeats of at least `repeat_seconds` each,
    fewer (never under three) when one repeat alone would overrun `total_seconds`; and how
    long to profile a step whose target was missed."""

    repeats: int
    repeat_seconds: float
    total_seconds: float
    profile_seconds: float
    warmup_calls: int = 2


QUICK = Budget(repeats=7, repeat_seconds=0.02, total_seconds=0.8, profile_seconds=1.0)
FULL = Budget(repeats=15, repeat_seconds=0.1, total_seconds=4.0, profile_seconds=3.0)


def _no_sync():
    pass


def measure(step, budget, synchronize=None):
    """Time `step()` under `budget`; `synchronize()` waits for the device (GPU work)."""
    return measure_interleaved([step], budget, [synchronize])[0]


def measure_interleaved(steps, budget, synchronizers):
    """Time each of `steps` under `budget`, interleaved (see the module docstring): a Timing
    per step, in order. `synchronizers` holds each step's `synchronize` (or None). Each
    step's calls per repeat are calibrated on their own; every step gets the same number of
    repeats."""
    syncs = [sync or _no_sync for sync in synchronizers]
    for step in steps:
        for _ in range(budget.warmup_calls):
            step()
    other_work = OtherWork()
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        calibrated = [_calibrate(step, sync, budget.repeat_seconds)
                      for step, sync in zip(steps, syncs)]
        affordable = min(int(budget.total_seconds / max(first, 1e-9))
                         for _, first in calibrated)
        repeats = max(MIN_KEPT, min(budget.repeats, affordable))
        samples = [[] for _ in steps]
        for _ in range(repeats):
            for step, sync, (calls, _), kept in zip(steps, syncs, calibrated, samples):
                kept.append(_repeat(step, sync, calls))
    finally:
        if was_enabled:
            gc.enable()
    busy = other_work.cpus_busy()
    return [summarize(kept, calls, busy) for kept, (calls, _) in zip(samples, calibrated)]


def _repeat(step, sync, calls):
    """Seconds per call over `calls` calls."""
    sync()
    start = time.perf_counter()
    for _ in range(calls):
        step()
    sync()
    return (time.perf_counter() - start) / calls


def _calibrate(step, sync, repeat_seconds):
    """(calls per repeat, seconds that repeat took): doubling from one call until a repeat
    lasts `repeat_seconds`."""
    calls = 1
    while True:
        seconds = _repeat(step, sync, calls) * calls
        if seconds >= repeat_seconds:
            return calls, seconds
        # Jump close to the goal once the time per call is known well enough, as pyperf does.
        calls = max(calls * 2, math.ceil(calls * repeat_seconds / max(seconds, 1e-9) / 2))


def summarize(samples, calls_per_repeat, others_busy_cpus):
    """The Timing of these per-call seconds: outliers out, robust spread, noise reasons."""
    middle = statistics.median(samples)
    deviation = _MAD_TO_SIGMA * statistics.median(abs(s - middle) for s in samples)
    kept = [s for s in samples if abs(s - middle) <= OUTLIER_MADS * deviation] or samples
    median = statistics.median(kept)
    spread = (_MAD_TO_SIGMA * statistics.median(abs(s - median) for s in kept) / median
              if median > 0 else 0.0)
    noisy = []
    if others_busy_cpus is not None and others_busy_cpus > BUSY_CPUS:
        noisy.append(f"other processes kept {others_busy_cpus:.1f} CPUs busy")
    if spread > SPREAD_LIMIT:
        noisy.append(f"the repeats spread {spread:.0%} (over {SPREAD_LIMIT:.0%})")
    if len(kept) < MIN_KEPT:
        noisy.append(f"only {len(kept)} repeats")
    return Timing(median=median, min=min(kept), max=max(kept), repeats=len(samples),
                  calls_per_repeat=calls_per_repeat, spread=spread,
                  outliers=len(samples) - len(kept), others_busy_cpus=others_busy_cpus,
                  noisy=noisy)
