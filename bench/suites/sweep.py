"""Throughput sweeps, shared by the elementwise and reduce suites: every case at every size
on every comparator, reported as GB/s next to the machine's memory bandwidth.

GB/s counts the least traffic the math needs: the float32 input read once and its gradient
written once, 8 bytes per element, whatever the comparator really moves. A comparator that
makes more passes over memory shows as a lower figure.
"""

import gc

from .. import machine
from ..session import Metric

BYTES_PER_ELEMENT = 8
# An upper estimate of what one step keeps alive at once (input, intermediates, gradients),
# used to skip sizes this machine cannot hold rather than fail on them.
LIVE_BYTES_PER_ELEMENT = 64


def powers_of_ten(top):
    return [10**k for k in range(2, top + 1)]


def run(session, suite, cases, sizes):
    """Measure each case, {name: {family: build(target, n) -> step}}, at each size; returns
    {(case, comparator name, n): record}."""
    if "memory_bandwidth_gbs" not in session.reference:
        session.reference["memory_bandwidth_gbs"] = machine.memory_bandwidth(session.budget)
    records = {}
    for case, builders in cases.items():
        for n in sorted(sizes):
            free = machine.available_memory_bytes()
            if free is not None and LIVE_BYTES_PER_ELEMENT * n > free:
                session.skip(suite, f"all at {n:,} elements ({case})",
                             f"needs about {LIVE_BYTES_PER_ELEMENT * n / 2**30:.1f} GiB, "
                             f"{free / 2**30:.1f} GiB free")
                continue
            metric = Metric.per_second("GB/s", BYTES_PER_ELEMENT * n / 1e9)
            for comparator in session.pick(*builders):
                step = builders[comparator.family](comparator.target, n)
                records[case, comparator.name, n] = session.measure(suite, case, comparator,
                                                                    n, step, metric)
                del step
                gc.collect()
    return records

