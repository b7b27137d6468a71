"""compile: how long the Numba backend's kernels take to compile on first use, and to load
once cached.

Each run starts a fresh Python process (`bench.compile_probe`) that imports the
engine and calls each workload twice; the first call compiles, or loads from the cache,
every kernel the workload needs, the second runs them warm. "Cold" runs get an empty
NUMBA_CACHE_DIR; "cached" runs reuse the folder the cold run filled. The compile (or load)
time of a workload is its first call minus its warm call: about zero (noise either way) for
a workload whose kernels an earlier one already compiled.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

NAME = "compile"
BACKEND = "numba"
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _probe(cache_folder):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_folder)
    done = subprocess.run([sys.executable, "-m", "bench.compile_probe", BACKEND],
                          cwd=_ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"compile probe failed (exit {done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def _spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def run(session):
    reason = session.why_not_run(BACKEND)
    if reason is not None:
        session.skip(NAME, BACKEND, reason)
        return
    cold_runs, cached_runs = [], []
    for _ in range(1 if session.quick else 3):
        with tempfile.TemporaryDirectory(prefix="pluggrad-bench-numba-cache-") as folder:
            print(f"  {NAME:13} cold cache in a fresh process", file=sys.stderr)
            cold_runs.append(_probe(folder))
            print(f"  {NAME:13} cached, in a fresh process", file=sys.stderr)
            cached_runs.append(_probe(folder))

    workloads = []
    for index, item in enumerate(cold_runs[0]["workloads"]):
        cold = [run["workloads"][index] for run in cold_runs]
        cached = [run["workloads"][index] for run in cached_runs]
        workloads.append({
            "name": item["name"],
            "cold_first_call": _spread([w["first_call"] for w in cold]),
            "cached_first_call": _spread([w["first_call"] for w in cached]),
            "warm_call": _spread([w["second_call"] for w in cold + cached]),
            "cold_compile": _spread([w["first_call"] - w["second_call"] for w in cold]),
            "cached_load": _spread([w["first_call"] - w["second_call"] for w in cached]),
        })
    session.sections[NAME] = {
        "backend": BACKEND,
        "runs": len(cold_runs),
        "startup_seconds": {"cold": _spread([r["startup_seconds"] for r in cold_runs]),
                            "cached": _spread([r["startup_seconds"] for r in cached_runs])},
        "workloads": workloads,
        "total_cold_compile": sum(w["cold_compile"]["median"] for w in workloads),
        "total_cached_load": sum(w["cached_load"]["median"] for w in workloads),
    }
