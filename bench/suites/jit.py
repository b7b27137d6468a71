"""jit: what tracing buys, on the two cases autograd.jit is for.

- The 2-8-8-1 tanh playground MLP at batch 1, forward without grad: eager code against the
  traced program's replay, which runs the backend's primitives straight on arrays with no
  Tensor or graph objects per op. The figure is microseconds per forward.
- A 6-op elementwise chain, `abs(relu(maximum((x*y + x)*0.5 - y, -1)))`, on 4,194,304
  float32 elements (262,144 with --quick), replayed without grad on the Numba backend: op by
  op, and with each run of elementwise instructions fused into one generated parallel kernel
  (one pass over memory instead of six). The figure is milliseconds per replay.
"""

import numpy

import autograd as ag
import backends
from backends.numba_backend import NumbaBackend

from ..comparators import PLUGGRAD
from ..session import Metric

NAME = "jit"
MLP_CASE = "2-8-8-1 forward, batch 1"
CHAIN_CASE = "6-op elementwise chain"
CHAIN_SIZE, QUICK_CHAIN_SIZE = 1 << 22, 1 << 18
REPLAY_TARGET = 0.333
FUSION_TARGET = 0.5


class _UnfusedNumba(NumbaBackend):
    """The Numba backend with fusion turned off: the traced chain then runs op by op."""

    def fuse_elementwise(self, program):
        return None


def _playground_forward(backend):
    rng = numpy.random.default_rng(0)
    sizes = (2, 8, 8, 1)
    layers = [(ag.tensor(rng.normal(size=(o, i)).astype(numpy.float32), requires_grad=True,
                         backend=backend),
               ag.tensor(rng.normal(size=o).astype(numpy.float32), requires_grad=True,
                         backend=backend)) for i, o in zip(sizes, sizes[1:])]

    def forward(x):
        for k, (weight, bias) in enumerate(layers):
            x = x @ weight.T + bias
            if k < len(layers) - 1:
                x = x.tanh()
        return x

    x = ag.tensor(rng.normal(size=(1, 2)).astype(numpy.float32), backend=backend)
    return forward, x


def _without_grad(fn, *args):
    def step():
        with ag.no_grad():
            fn(*args)

    return step


def _chain(x, y):
    return ag.maximum((x * y + x) * 0.5 - y, -1.0).relu().abs()


def _traced_chain(backend, size):
    rng = numpy.random.default_rng(0)
    x, y = (ag.tensor(rng.normal(size=size).astype(numpy.float32), backend=backend)
            for _ in range(2))
    return _without_grad(ag.jit.trace(_chain, x, y), x, y)


def run(session):
    per_forward = Metric.per_call("us/forward", 1e6)
    for comparator in session.pick(PLUGGRAD):
        forward, x = _playground_forward(comparator.target)
        eager = session.measure(NAME, MLP_CASE + ", eager", comparator, 1,
                                _without_grad(forward, x), per_forward)
        replay = session.measure(NAME, MLP_CASE + ", replay", comparator, 1,
                                 _without_grad(ag.jit.trace(forward, x), x), per_forward)
        ratio = replay["metric"]["median"] / eager["metric"]["median"]
        session.check_target(
            f"jit replay, {comparator.name} backend",
            f"no-grad replay of the 2-8-8-1 MLP at batch 1 on {comparator.name} at least 3x "
            f"faster than eager (time ratio at most 1/3)", ratio, REPLAY_TARGET,
            f"replay {replay['metric']['median']:.2f} us, eager "
            f"{eager['metric']['median']:.2f} us ({1 / ratio:.1f}x faster)",
            records=[eager, replay])

    numba = session.find("numba")
    if numba is None:
        session.target_not_measured("jit fusion", "fused replay of the 6-op chain",
                                    FUSION_TARGET, f"numba: {session.why_not_run('numba')}")
        return
    size = QUICK_CHAIN_SIZE if session.quick else CHAIN_SIZE
    per_replay = Metric.per_call("ms/replay", 1e3)
    unfused = session.measure(NAME, CHAIN_CASE + ", op by op", numba, size,
                              _traced_chain(_UnfusedNumba(name="numba-unfused"), size),
                              per_replay)
    fused = session.measure(NAME, CHAIN_CASE + ", fused", numba, size,
                            _traced_chain(backends.get("numba"), size), per_replay)
    ratio = fused["metric"]["median"] / unfused["metric"]["median"]
    session.check_target(
        "jit fusion, numba backend",
        f"fused replay of the 6-op elementwise chain on {size:,} float32 at least 2x faster "
        f"than op by op (time ratio at most 0.5)", ratio, FUSION_TARGET,
        f"fused {fused['metric']['median']:.2f} ms, op by op "
        f"{unfused['metric']['median']:.2f} ms ({1 / ratio:.1f}x faster)",
        records=[unfused, fused])
