"""distributed: data-parallel training on MPI (nn.parallel.DistributedDataParallel), on the
784-512-256-10 ReLU classifier of the mlp suite (cross-entropy, SGD with momentum 0.9, a
batch of 256 per rank), numpy backend, one BLAS thread per rank.

- training throughput: samples per second of 1 and of 2 ranks, each rank training on its
  own batch of 256 (so 2 ranks train on 512 samples per step), gradients averaged by the
  wrapper during backward; the time of a step is the slowest rank's;
- gradient averaging: the time the wrapper takes to average one step's gradients (all six
  parameters, 535,818 float32) over 2 ranks, against a bare mpi4py `Allreduce` of one
  NumPy array of the same size (the target's reference: the call a user would write), and
  against the same Allreduce on a buffer like the wrapper's own, on huge pages (what the
  communication alone takes on that memory). The gradients are already in the wrapper's
  buckets (views of them since the last step), so what it adds to that is the division by
  the number of ranks, one pass over the buffer, and its own few calls. The three are timed
  interleaved, one repeat of each in turn.

The suite runs itself under the launcher: `mpiexec -n K python -m bench.suites.distributed`
for K = 1 and 2, with OMP/OpenBLAS/MKL/Numba threads set to 1; each rank times the same
number of calls (all derive them from the same allreduced times), and rank 0 prints the
figures as JSON.
"""

import gc
import json
import math
import os
import shutil
import subprocess
import sys

from ..session import Metric
from ..timing import FULL, QUICK, summarize

NAME = "distributed"
BACKEND = "numpy"
RANKS = (1, 2)
TRAINING = "784-512-256-10 ReLU, batch 256 per rank, by ranks"
AVERAGING = "averaging one step's gradients over 2 ranks, by elements"
WRAPPER = "DistributedDataParallel"
BARE = "mpi4py Allreduce"
BARE_HUGE = "mpi4py Allreduce, huge pages"
SPEEDUP_TARGET = 1.7
AVERAGING_TARGET = 1.15
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                     "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _mpiexec():
    return (shutil.which("mpiexec", path=os.path.dirname(sys.executable))
            or shutil.which("mpiexec"))


def _why_not_run():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return 'mpi4py is not installed: pip install -e ".[mpi]"'
    if _mpiexec() is None:
        return 'mpiexec is not on PATH: pip install -e ".[mpi]" (the mpich wheel has it)'
    return None


def _launch(ranks, quick):
    command = [_mpiexec(), "-n", str(ranks), sys.executable, "-m", "bench.suites.distributed"]
    done = subprocess.run(command + (["--quick"] if quick else []), cwd=_ROOT,
                          env=dict(os.environ, **ONE_THREAD), capture_output=True, text=True,
                          check=False, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {done.returncode}):\n"
                           f"{done.stderr}")
    return json.loads(done.stdout)


def _record(session, case, comparator, size, timing, metric):
    """Keep a figure measured in the launched job, as Session.measure keeps its own."""
    low, high = sorted((metric.of(timing["min"]), metric.of(timing["max"])))
    record = {"suite": NAME, "case": case, "comparator": comparator, "size": size,
              "seconds": timing, "metric": {"unit": metric.unit,
                                            "median": metric.of(timing["median"]),
                                            "min": low, "max": high,
                                            "spread": timing["spread"]},
              "noisy": list(timing["noisy"])}
    print(f"  {NAME:13} {case[:34]:34} {comparator:11} {size:>11,}  "
          f"{record['metric']['median']:12.4g} {metric.unit}", file=sys.stderr)
    session.measurements.append(record)
    return record


def run(session):
    reason = _why_not_run()
    if reason is not None:
        session.skip(NAME, "mpi", reason)
        return
    if session.why_not_run(BACKEND) is not None:
        session.skip(NAME, BACKEND, session.why_not_run(BACKEND))
        return
    figures = {ranks: _launch(ranks, session.quick) for ranks in RANKS}
    per_sample, training = {}, []
    for ranks, found in figures.items():
        samples = ranks * found["batch"]
        record = _record(session, TRAINING, BACKEND, ranks, found["training"],
                         Metric.per_second("samples/s", samples))
        per_sample[ranks] = 1 / record["metric"]["median"]
        training.append(record)
    one, two = per_sample[1], per_sample[2]
    session.check_target(
        "distributed speed-up", f"2 ranks' time per sample at most 1/{SPEEDUP_TARGET} of one "
        f"rank's (throughput at least {SPEEDUP_TARGET}x)", two / one,
        round(1 / SPEEDUP_TARGET, 3),
        f"1 rank {1 / one:,.0f} samples/s, 2 ranks {1 / two:,.0f} samples/s, "
        f"{one / two:.2f}x", records=training)

    averaging = figures[2]
    elements = averaging["elements"]
    records = [_record(session, AVERAGING, comparator, elements, averaging[key],
                       Metric.per_call("ms", 1e3))
               for comparator, key in ((WRAPPER, "averaging"), (BARE, "bare_allreduce"),
                                       (BARE_HUGE, "bare_allreduce_huge_pages"))]
    mine, bare, bare_huge = (record["seconds"]["median"] for record in records)
    session.check_target(
        "distributed averaging", f"averaging one step's gradients ({elements:,} float32) over "
        f"2 ranks at most {AVERAGING_TARGET}x a bare Allreduce of one NumPy array of that "
        f"size", mine / bare, AVERAGING_TARGET,
        f"{WRAPPER} {mine * 1e3:.3f} ms, {BARE} {bare * 1e3:.3f} ms; on the same huge-page "
        f"memory as the wrapper's buckets, the Allreduce takes {bare_huge * 1e3:.3f} ms "
        f"({mine / bare_huge:.2f}x)", records=records[:2])


# ---------------------------------------------------------------------------- in the job
def _timed(steps, budget, comm):
    """Time each of `steps` on every rank alike, interleaved (one repeat of each in turn, as
    timing.measure_interleaved does): the same warm-up, calls and repeats on each rank (a
    step is a collective, and every rank derives its counts from the same allreduced
    times), each repeat started together and lasting as long as the slowest rank's. A
    summary per step, in order."""
    from mpi4py import MPI

    def seconds_per_call(step, calls):
        comm.Barrier()
        start = MPI.Wtime()
        for _ in range(calls):
            step()
        return comm.allreduce((MPI.Wtime() - start) / calls, op=MPI.MAX)

    for step in steps:
        for _ in range(budget.warmup_calls):
            step()
    firsts = [max(seconds_per_call(step, 1), 1e-9) for step in steps]
    calls = [max(1, math.ceil(budget.repeat_seconds / first)) for first in firsts]
    repeats = max(3, min(budget.repeats, min(int(budget.total_seconds / (first * count))
                                             for first, count in zip(firsts, calls))))
    samples = [[] for _ in steps]
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            for step, count, kept in zip(steps, calls, samples):
                kept.append(seconds_per_call(step, count))
    finally:
        gc.enable()
    # The other ranks are this job's own work, not interference: no CPU-busy measure.
    return [summarize(kept, count, others_busy_cpus=None).as_dict()
            for kept, count in zip(samples, calls)]


def _job(quick):
    import numpy
    from mpi4py import MPI

    import autograd as ag
    import backends
    import nn
    from nn import distributed
    from nn.parallel import DistributedDataParallel

    from . import mlp

    distributed.init()
    comm = MPI.COMM_WORLD
    budget = QUICK if quick else FULL
    x, labels = mlp._classifier_data()
    with backends.use(BACKEND):
        ag.manual_seed(0)
        model = mlp._pluggrad_model(mlp.CLASSIFIER_SIZES, nn.ReLU)
        x, labels = ag.tensor(x), ag.tensor(labels)
    parallel_model = DistributedDataParallel(model)
    optimizer = nn.optim.SGD(parallel_model.parameters(), lr=mlp.CLASSIFIER_LR,
                             momentum=mlp.MOMENTUM)

    def training_step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(parallel_model(x), labels).backward()
        optimizer.step()

    figures = {"batch": mlp.BATCH, "training": _timed([training_step], budget, comm)[0]}
    if comm.Get_size() > 1:  # the gradients of the last step are still there to average
        elements = sum(p.size for p in model.parameters())
        array = numpy.ones(elements, dtype=numpy.float32)
        huge_pages = distributed.transport(x.backend).buffer(elements, "float32")
        huge_pages.fill(1)
        figures["elements"] = elements
        figures["averaging"], figures["bare_allreduce"], \
            figures["bare_allreduce_huge_pages"] = _timed(
                [parallel_model.average_gradients,
                 lambda: comm.Allreduce(MPI.IN_PLACE, array, op=MPI.SUM),
                 lambda: comm.Allreduce(MPI.IN_PLACE, huge_pages, op=MPI.SUM)], budget, comm)
    if comm.Get_rank() == 0:
        print(json.dumps(figures))


if __name__ == "__main__":
    _job("--quick" in sys.argv[1:])
