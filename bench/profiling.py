"""Where the time of a step goes: cProfile's top entries, per call of the step.

Used for every target a run misses, so the report says what to work on next.
"""

import cProfile
import os
import pstats
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def top_entries(step, seconds, count=15):
    """Profile `step()` for about `seconds`; the `count` functions with the most own time,
    with their time per step in microseconds."""
    start = time.perf_counter()
    step()
    calls = max(1, int(seconds / max(time.perf_counter() - start, 1e-9)))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        step()
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    rows = []
    for (path, line, function), (_, ncalls, own, cumulative, _) in stats.items():
        rows.append({"function": _where(path, line, function),
                     "calls_per_step": ncalls / calls,
                     "own_us_per_step": own / calls * 1e6,
                     "cumulative_us_per_step": cumulative / calls * 1e6})
    rows.sort(key=lambda row: row["own_us_per_step"], reverse=True)
    return rows[:count]


def _where(path, line, function):
    if path == "~":
        return function
    if path.startswith(_ROOT):
        path = os.path.relpath(path, _ROOT)
    elif "site-packages" in path:
        path = path.split("site-packages" + os.sep, 1)[1]
    return f"{path}:{line}({function})"
