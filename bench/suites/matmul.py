"""matmul: forward plus backward of a square float32 matrix product, as GFLOP/s.

`C = A @ B`, then `C.backward(G)` with a fixed random upstream gradient `G`, filling `A.grad`
and `B.grad`: three n x n products, 6 n^3 floating-point operations. Next to it, the
machine's BLAS peak: a plain NumPy `A @ B` (2 n^3 operations), the best rate over the sizes.

Compared: every pluggrad backend, hand-written NumPy (the three products written out) and
PyTorch.
"""

import numpy

import autograd as ag

from ..comparators import HAND_NUMPY, PLUGGRAD, TORCH
from ..session import Metric

NAME = "matmul"
FORWARD_BACKWARD = "A @ B with backward"
BLAS = "NumPy A @ B (BLAS reference)"


def _data(n):
    rng = numpy.random.default_rng(0)
    return [rng.standard_normal((n, n)).astype(numpy.float32) for _ in range(3)]


def _pluggrad(backend, n):
    a_data, b_data, g_data = _data(n)
    a = ag.tensor(a_data, requires_grad=True, backend=backend)
    b = ag.tensor(b_data, requires_grad=True, backend=backend)
    g = ag.tensor(g_data, backend=backend)

    def step():
        (a @ b).backward(g)
        a.grad = None
        b.grad = None

    return step


def _hand_numpy(_, n):
    a, b, g = _data(n)

    def step():
        return a @ b, g @ b.T, a.T @ g

    return step


def _torch(device, n):
    import torch

    a, b, g = (torch.tensor(array, device=device) for array in _data(n))
    a.requires_grad_(True)
    b.requires_grad_(True)

    def step():
        (a @ b).backward(g)
        a.grad = None
        b.grad = None

    return step


def _blas(_, n):
    a, b, _ = _data(n)
    return lambda: a @ b


_BUILDERS = {PLUGGRAD: _pluggrad, HAND_NUMPY: _hand_numpy, TORCH: _torch}


def run(session):
    sizes = [64, 128, 256, 512, 1024] + ([] if session.quick else [2048, 4096])
    peak = 0.0
    for n in sizes:
        for comparator in session.pick(*_BUILDERS):
            step = _BUILDERS[comparator.family](comparator.target, n)
            session.measure(NAME, FORWARD_BACKWARD, comparator, n, step,
                            Metric.per_second("GFLOP/s", 6 * n**3 / 1e9))
        record = session.measure(NAME, BLAS, session.find(HAND_NUMPY), n, _blas(None, n),
                                 Metric.per_second("GFLOP/s", 2 * n**3 / 1e9))
        peak = max(peak, record["metric"]["median"])
    session.reference["blas_peak_gflops"] = peak
