"""The benchmark machinery, run on tiny budgets: the figures are not checked (they are
timings), the shape of what a run produces is."""

import json

import pytest

import backends
from bench import __main__ as bench_main
from bench import results as bench_results
from bench import session as bench_session
from bench import timing
from bench.comparators import Comparator

TINY = timing.Budget(repeats=3, repeat_seconds=0.0, total_seconds=0.0, profile_seconds=0.0,
                     warmup_calls=1)


@pytest.fixture
def tiny_budget(monkeypatch):
    monkeypatch.setattr(bench_session, "QUICK", TINY)


def test_measure_warms_up_then_times_every_repeat():
    calls = []
    result = timing.measure(lambda: calls.append(1), timing.Budget(
        repeats=5, repeat_seconds=0.0, total_seconds=1.0, profile_seconds=0.0,
        warmup_calls=2))
    assert result.repeats == 5
    assert result.calls_per_repeat == 1
    assert len(calls) == 2 + 1 + 5 * 1  # warm-up, the calibrating repeat, the repeats
    assert result.min <= result.median <= result.max


def test_crossover_is_where_the_gpu_stays_fastest():
    session = bench_session.Session(True, [
        Comparator("cpu-side", "pluggrad", "cpu-side", False, "cpu"),
        Comparator("gpu-side", "pluggrad", "gpu-side", True, "gpu")], [])
    cpu = {100: 1.0, 1000: 2.0, 10000: 3.0, 100000: 4.0}
    gpu = {100: 0.5, 1000: 5.0, 10000: 2.0, 100000: 1.0}
    for name, seconds in (("cpu-side", cpu), ("gpu-side", gpu)):
        for size, value in seconds.items():
            session.measurements.append({"suite": "s", "case": "c", "comparator": name,
                                         "size": size, "seconds": {"median": value}})
    assert bench_results.crossovers(session) == [
        {"suite": "s", "case": "c", "gpu_faster_from": 10000}]


MEASUREMENT_KEYS = {"suite", "case", "comparator", "size", "seconds", "metric", "noisy"}
TOP_LEVEL_KEYS = {"schema_version", "command", "started", "finished", "quick", "suites",
                  "machine", "versions", "other_work", "reference", "comparators",
                  "skipped", "measurements", "targets", "crossovers", "sections", "plots"}


def test_quick_overhead_run_writes_documented_results(tiny_budget, tmp_path, capsys):
    markdown_path = tmp_path / "RESULTS.md"
    bench_main.main(["--backends", "numpy,no-such-backend", "--suite", "overhead", "--quick",
                     "--out", str(tmp_path), "--results-md", str(markdown_path)])
    printed = capsys.readouterr().out
    results = json.loads((tmp_path / "results.json").read_text())

    assert set(results) == TOP_LEVEL_KEYS
    assert results["schema_version"] == bench_results.SCHEMA_VERSION
    assert results["quick"] is True
    assert list(results["suites"]) == ["overhead"]
    assert results["machine"]["logical_cpus"] >= 1
    assert results["versions"]["numpy"]

    names = {c["name"] for c in results["comparators"]}
    assert {"numpy", "hand-numpy"} <= names
    skipped = {s["comparator"]: s for s in results["skipped"]}
    assert "unknown backend" in skipped["no-such-backend"]["reason"]
    assert all(s["reason"] for s in results["skipped"])
    for name in ("torch-cpu", "hand-numba"):
        assert (name in names) != (name in skipped)

    measured = {r["comparator"] for r in results["measurements"]}
    assert measured == names - {"hand-numba"}
    for record in results["measurements"]:
        assert set(record) == MEASUREMENT_KEYS
        assert record["suite"] == "overhead" and record["size"] == 16
        seconds, metric = record["seconds"], record["metric"]
        assert seconds["min"] <= seconds["median"] <= seconds["max"]
        assert seconds["repeats"] == 3
        assert metric["unit"] == "us/op"
        assert metric["median"] == pytest.approx(seconds["median"] * 1e6 / 300)

    (target,) = results["targets"]
    assert target["status"] in {"met", "missed", "noisy", "not measured"}
    if "torch-cpu" in names:
        assert target["ratio"] > 0
        assert (target["profile"] is not None) == (target["status"] == "missed")
    else:
        assert target["status"] == "not measured"

    assert printed == markdown_path.read_text() + "\n"
    assert "## Targets" in printed and "## overhead" in printed
    assert "no-such-backend" in printed


def test_unknown_suite_is_refused():
    with pytest.raises(SystemExit):
        bench_main.parse_arguments(["--suite", "no-such-suite"])


def test_every_registered_backend_is_either_compared_or_skipped():
    from bench.comparators import discover

    found, skipped = discover()
    compared = {c.name for c in found}
    reasons = {s["comparator"] for s in skipped}
    for name in backends.available():
        assert (name in compared) != (name in reasons)


@pytest.mark.parametrize("build", ["closure_engine_step", "function_engine_step"])
def test_floor_engines_compute_the_gradients_of_the_overhead_chain(build):
    """The floors the overhead target is set against must do the same work as pluggrad."""
    import numpy

    import autograd as ag
    from bench import floor_engines
    from bench.suites import overhead

    grad_x, grad_b = getattr(overhead, build)()()
    x_data, b_data = overhead._inputs()
    x = ag.tensor(x_data, requires_grad=True)
    b = ag.tensor(b_data, requires_grad=True)
    h = x
    for _ in range(overhead.CYCLES):
        h = (h * overhead.SCALE + b).tanh().sigmoid()
    h.sum().backward()
    grad_x, grad_b = (g.data if isinstance(g, floor_engines.Tensor) else g
                      for g in (grad_x, grad_b))
    assert grad_x.dtype == numpy.float32 and grad_b.shape == (overhead.SIZE,)
    numpy.testing.assert_allclose(grad_x, x.grad.numpy(), rtol=1e-5, atol=1e-12)
    numpy.testing.assert_allclose(grad_b, b.grad.numpy(), rtol=1e-5, atol=1e-12)
    assert numpy.abs(grad_b).max() > 1e-3


def test_memory_suite_measures_each_loop_in_a_fresh_process_and_reports_it():
    from bench.suites import memory

    loops = {mode: memory.probe("numpy", mode, 2) for mode in ("kept", "items")}
    for mode, figures in loops.items():
        assert figures["mode"] == mode and figures["steps"] == 2
        assert figures["peak"] >= figures["after"] > 0
        assert figures["retained"] == figures["after"] - figures["before"]
    section = {"limit": memory.LIMIT, "loops": [
        {"comparator": "numpy", "steps": 2, **loops, "kept_over_items_peak": 1.5}]}
    table = memory.render(section)
    assert table.splitlines()[0].startswith("| comparator | steps | peak, kept losses")
    assert "**1.50**" in table
