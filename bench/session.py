"""One benchmark run: its options, its comparators, and everything measured so far.

Suites call `measure` for each figure and `check_target` for each target they report
against; the session keeps the records in the shape results.json documents.

A target is judged only on figures that can be trusted: when one of the figures behind it is
noisy (see timing.py), or the ratio lies within its own spread of the limit, so that a rerun
could land on the other side, its status is "noisy" (reported as "noisy, rerun") instead of
"met" or "missed".
"""

import math
import sys
from dataclasses import dataclass

from . import profiling
from .timing import FULL, QUICK, measure, measure_interleaved


@dataclass(frozen=True)
class Metric:
    """How a figure is derived from seconds per call: a rate (`work` / seconds, e.g. GB/s)
    or a cost (seconds * `scale`, e.g. microseconds per op)."""

    unit: str
    amount: float
    rate: bool

    @classmethod
    def per_second(cls, unit, work):
        return cls(unit, work, True)

    @classmethod
    def per_call(cls, unit, scale):
        return cls(unit, scale, False)

    def of(self, seconds):
        return self.amount / seconds if self.rate else seconds * self.amount


class Session:
    def __init__(self, quick, comparators, skipped):
        self.quick = quick
        self.budget = QUICK if quick else FULL
        self.comparators = comparators
        self.skipped = [dict(entry, suite=None) for entry in skipped]
        self.measurements = []
        self.targets = []
        self.reference = {}
        self.sections = {}

    def pick(self, *families):
        """The comparators of the given families that can run here."""
        return [c for c in self.comparators if c.family in families]

    def find(self, name):
        return next((c for c in self.comparators if c.name == name), None)

    def why_not_run(self, name):
        """Why the comparator `name` cannot run in this session, or None if it can."""
        if self.find(name) is not None:
            return None
        return next((entry["reason"] for entry in self.skipped
                     if entry["comparator"] == name and entry["suite"] is None),
                    "not among --backends")

    def skip(self, suite, comparator, reason):
        self.skipped.append({"comparator": comparator, "suite": suite, "reason": reason})

    def measure(self, suite, case, comparator, size, step, metric):
        """Time `step` (after warm-up) and keep the figure; returns the record."""
        print(f"  {suite:13} {case:34} {comparator.name:11} {size:>11,}", end="",
              file=sys.stderr, flush=True)
        timing = measure(step, self.budget, comparator.synchronize)
        return self._keep(suite, case, comparator, size, timing, metric)

    def measure_interleaved(self, suite, entries):
        """Time the steps of `entries`, (case, comparator, size, step, metric) each,
        interleaved (see timing.measure_interleaved) and keep their figures; returns the
        records, in order."""
        timings = measure_interleaved([step for *_, step, _ in entries], self.budget,
                                      [comparator.synchronize for _, comparator, *_ in entries])
        records = []
        for (case, comparator, size, _, metric), timing in zip(entries, timings):
            print(f"  {suite:13} {case:34} {comparator.name:11} {size:>11,}", end="",
                  file=sys.stderr)
            records.append(self._keep(suite, case, comparator, size, timing, metric))
        return records

    def _keep(self, suite, case, comparator, size, timing, metric):
        low, high = sorted((metric.of(timing.min), metric.of(timing.max)))
        record = {"suite": suite, "case": case, "comparator": comparator.name, "size": size,
                  "seconds": timing.as_dict(),
                  "metric": {"unit": metric.unit, "median": metric.of(timing.median),
                             "min": low, "max": high, "spread": timing.spread},
                  "noisy": list(timing.noisy)}
        print(f"  {record['metric']['median']:12.4g} {metric.unit} ±{timing.spread:.0%}"
              + (f"  noisy: {'; '.join(timing.noisy)}" if timing.noisy else ""),
              file=sys.stderr)
        self.measurements.append(record)
        return record

    def below_floor(self, record, floor, what):
        """Mark `record` noisy when it is faster than `floor`, a steady record of work it
        must do at least (`what` names it): a figure under its floor was measured wrongly.
        (A noisy floor proves nothing; it carries its own reasons.)"""
        if not floor["noisy"] and record["seconds"]["median"] < floor["seconds"]["median"]:
            record["noisy"].append(f"faster than its floor, {what} "
                                   f"({floor['seconds']['median'] * 1e3:.3g} ms)")

    def check_target(self, name, description, ratio, limit, detail, make_step=None, *,
                     records):
        """Compare a measured time ratio with its target (at most `limit`). `records` are the
        measurements the ratio comes from, and only those: if one is noisy, or the ratio is
        within their combined spread of the limit, the status is "noisy" and no verdict is
        given. When the target is missed and `make_step` is given, keep cProfile's top
        entries for the step it builds."""
        noise = [f"{r['comparator']} {r['case']}: {reason}" for r in records
                 for reason in r["noisy"]]
        spread = math.sqrt(sum(r["metric"]["spread"] ** 2 for r in records))
        if not noise and abs(ratio / limit - 1) <= spread:
            noise.append(f"the ratio is within its spread ({spread:.0%}) of the limit")
        met = ratio <= limit
        status = "noisy" if noise else "met" if met else "missed"
        target = {"name": name, "description": description, "status": status,
                  "ratio": ratio, "spread": spread, "limit": limit,
                  "missed_by": None if met else ratio / limit - 1, "detail": detail,
                  "noise": noise, "profile": None}
        if status == "missed" and make_step is not None:
            target["profile"] = profiling.top_entries(make_step(), self.budget.profile_seconds)
        self.targets.append(target)
        return target

    def target_not_measured(self, name, description, limit, reason):
        self.targets.append({"name": name, "description": description,
                             "status": "not measured", "ratio": None, "spread": None,
                             "limit": limit, "missed_by": None, "detail": reason, "noise": [],
                             "profile": None})
