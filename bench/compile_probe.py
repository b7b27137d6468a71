"""Run in a fresh process by the compile suite: import the engine, then time the first and
the second call of each workload on one backend, and print the figures as JSON.

The first call of a workload compiles (or loads from the cache) every kernel it needs; the
second runs them warm. `python -m bench.compile_probe BACKEND`
"""

import json
import sys
import time

start = time.perf_counter()
import autograd  # noqa: E402, F401  (timed: importing is part of a cold start)
import backends  # noqa: E402

IMPORTED = time.perf_counter() - start

from .comparators import PLUGGRAD  # noqa: E402
from .suites import elementwise, mlp, reduce  # noqa: E402

ELEMENTS = 1_000_000


def workloads(backend):
    """(name, step) pairs that reach every kind of kernel: elementwise math, reductions, the
    row-broadcast case, softmax and the optimiser update."""
    return [
        (f"elementwise {elementwise.ACTIVATION}",
         elementwise.CASES[elementwise.ACTIVATION][PLUGGRAD](backend, ELEMENTS)),
        (f"elementwise {elementwise.ARITHMETIC}",
         elementwise.CASES[elementwise.ARITHMETIC][PLUGGRAD](backend, ELEMENTS)),
        (f"reduce {reduce.SUM}", reduce.CASES[reduce.SUM][PLUGGRAD](backend, ELEMENTS)),
        (f"reduce {reduce.ROW_MAX}", reduce.CASES[reduce.ROW_MAX][PLUGGRAD](backend, ELEMENTS)),
        (f"mlp {mlp.CLASSIFIER}", mlp.pluggrad_classifier_step(backend)),
    ]


def main(backend):
    start = time.perf_counter()
    backends.get(backend)
    figures = {"startup_seconds": IMPORTED + time.perf_counter() - start, "workloads": []}
    for name, step in workloads(backend):
        calls = []
        for _ in range(2):
            start = time.perf_counter()
            step()
            calls.append(time.perf_counter() - start)
        figures["workloads"].append({"name": name, "first_call": calls[0],
                                     "second_call": calls[1]})
    json.dump(figures, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
