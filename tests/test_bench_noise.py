"""The benchmark's guard against figures it cannot trust: calibrated loops, outliers left
out, and "noisy, rerun" instead of a verdict when other work, a wide spread or a figure below
its floor makes a target's ratio unreliable. Time is simulated: nothing here is timed."""

import pytest

from bench import report, timing
from bench import session as bench_session
from bench.comparators import Comparator


class FakeClock:
    """perf_counter for bench.timing: each call of the step advances it by `per_call`."""

    def __init__(self, per_call):
        self.now = 0.0
        self.per_call = per_call

    def __call__(self):
        return self.now

    def step(self):
        self.now += self.per_call


def test_calibration_doubles_the_calls_until_a_repeat_lasts_long_enough(monkeypatch):
    clock = FakeClock(per_call=0.001)
    monkeypatch.setattr(timing.time, "perf_counter", clock)
    calls, seconds = timing._calibrate(clock.step, lambda: None, repeat_seconds=0.02)
    assert calls >= 20 and seconds >= 0.02
    assert calls < 80  # close to the goal, not far past it


def test_an_interrupted_repeat_is_an_outlier_and_the_spread_is_robust():
    samples = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 3.0]
    result = timing.summarize(samples, 10, others_busy_cpus=0.0)
    assert result.outliers == 1 and result.max < 2
    assert result.median == pytest.approx(1.0)
    assert result.spread < 0.05 and result.noisy == []


def test_a_wide_spread_or_busy_machine_makes_a_figure_noisy():
    wide = timing.summarize([1.0, 1.5, 0.7, 1.3, 0.8], 1, others_busy_cpus=0.0)
    assert any("spread" in reason for reason in wide.noisy)
    busy = timing.summarize([1.0, 1.0, 1.0], 1, others_busy_cpus=1.5)
    assert any("1.5 CPUs busy" in reason for reason in busy.noisy)
    unknown = timing.summarize([1.0, 1.0, 1.0], 1, others_busy_cpus=None)
    assert unknown.noisy == []


def _session_with(*figures):
    """A session holding one record per (comparator, median seconds, spread, noisy)."""
    comparators = [Comparator(name, "pluggrad", name, False, "") for name, *_ in figures]
    session = bench_session.Session(True, comparators, [])
    for name, median, spread, noisy in figures:
        session.measurements.append({
            "suite": "s", "case": "c", "comparator": name, "size": 1,
            "seconds": {"median": median},
            "metric": {"unit": "s", "median": median, "min": median, "max": median,
                       "spread": spread},
            "noisy": list(noisy)})
    return session


def test_a_target_on_steady_figures_clear_of_the_limit_gets_its_verdict():
    session = _session_with(("numba", 0.8, 0.02, []), ("numpy", 1.0, 0.02, []))
    target = session.check_target("t", "d", 0.8, 1.0, "detail",
                                  records=session.measurements)
    assert target["status"] == "met" and target["noise"] == []
    missed = session.check_target("t", "d", 1.3, 1.0, "detail",
                                  records=session.measurements)
    assert missed["status"] == "missed"


def test_a_noisy_figure_or_a_ratio_within_its_spread_gives_noisy_not_a_verdict():
    session = _session_with(("numba", 0.8, 0.02, ["other processes kept 2.0 CPUs busy"]),
                            ("numpy", 1.0, 0.02, []))
    target = session.check_target("t", "d", 0.8, 1.0, "detail",
                                  records=session.measurements)
    assert target["status"] == "noisy"
    assert "numba c: other processes kept 2.0 CPUs busy" in target["noise"]

    close = _session_with(("numba", 0.98, 0.03, []), ("numpy", 1.0, 0.03, []))
    target = close.check_target("t", "d", 0.98, 1.0, "detail", records=close.measurements)
    assert target["status"] == "noisy" and "within its spread" in target["noise"][0]
    assert "**noisy, rerun**" in report._targets({"targets": close.targets})


def test_a_figure_faster_than_its_floor_is_noisy():
    session = _session_with(("step", 0.5, 0.01, []), ("floor", 0.7, 0.01, []))
    step, floor = session.measurements
    session.below_floor(step, floor, "its matrix products alone")
    assert "faster than its floor" in step["noisy"][0]
    assert session.check_target("t", "d", 0.5, 1.0, "", records=[step])["status"] == "noisy"
    session.below_floor(floor, step, "nothing")
    assert floor["noisy"] == []


def _sweep_record(case, comparator, size, median, noisy=()):
    return {"suite": "elementwise", "case": case, "comparator": comparator, "size": size,
            "seconds": {"median": median},
            "metric": {"unit": "GB/s", "median": 1 / median, "min": 1 / median,
                       "max": 1 / median, "spread": 0.01},
            "noisy": list(noisy)}


def test_an_elementwise_target_is_judged_on_its_own_figures_only():
    from bench.suites import elementwise

    session = bench_session.Session(True, [], [])
    size = elementwise.HEADLINE_SIZE
    numpy_backend = _sweep_record(elementwise.ACTIVATION, "numpy", size, 0.6)
    hand = _sweep_record(elementwise.ACTIVATION, "hand-numpy", size, 1.0)
    unrelated = _sweep_record(elementwise.ACTIVATION, "hand-numba", 100, 1.0,
                              ["the repeats spread 11% (over 10%)"])
    records = {(r["case"], r["comparator"], r["size"]): r
               for r in (numpy_backend, hand, unrelated)}
    elementwise._check_targets(session, records)
    against_hand = next(t for t in session.targets if "hand-numpy's time" in t["description"])
    assert against_hand["status"] == "met" and against_hand["ratio"] == pytest.approx(0.6)
    assert against_hand["noise"] == []

    hand["noisy"].append("other processes kept 1.0 CPUs busy")
    session.targets.clear()
    elementwise._check_targets(session, records)
    against_hand = next(t for t in session.targets if "hand-numpy's time" in t["description"])
    assert against_hand["status"] == "noisy"
    assert against_hand["noise"] == ["hand-numpy tanh(x)*sigmoid(x) + x*x: other processes "
                                     "kept 1.0 CPUs busy"]


def test_interleaved_steps_alternate_repeat_by_repeat_and_keep_their_own_times(monkeypatch):
    clock = FakeClock(per_call=0.0)
    monkeypatch.setattr(timing.time, "perf_counter", clock)
    order = []

    def step_taking(seconds, name):
        def step():
            clock.now += seconds
            order.append(name)
        return step

    budget = timing.Budget(repeats=5, repeat_seconds=0.02, total_seconds=10.0,
                           profile_seconds=0.0, warmup_calls=1)
    fast, slow = timing.measure_interleaved(
        [step_taking(0.001, "fast"), step_taking(0.004, "slow")], budget, [None, None])
    assert fast.median == pytest.approx(0.001) and slow.median == pytest.approx(0.004)
    assert fast.repeats == slow.repeats == 5
    assert fast.calls_per_repeat > slow.calls_per_repeat
    timed = order[-5 * (fast.calls_per_repeat + slow.calls_per_repeat):]
    runs = [name for i, name in enumerate(timed) if i == 0 or timed[i - 1] != name]
    assert runs == ["fast", "slow"] * 5
