"""conv: a 2-D convolution layer's forward and backward, as steps per second.

`y = conv2d(x, w, b, padding=1)` on a batch x of shape (64, 3, 32, 32) with 16 filters of
3x3 (w of shape (16, 3, 3, 3)), then `y.backward(G)` with a fixed random upstream gradient
G, filling the gradients of x, w and b: a CIFAR-sized first layer. pluggrad computes it as
im2col (the windows of x as columns), one matrix product per sample plus the bias, and for
the backward two more products per sample and a col2im (backends: `im2col`/`col2im`,
`matmul`, `matmul_add`; on Numba compiled window kernels, the products split over the
threads by sample, the weight gradient's by a row-products kernel).

Compared: every pluggrad backend and PyTorch (its native CPU convolution). Target: the Numba
backend at most 1.5x PyTorch CPU's time.
"""

import numpy

import autograd as ag

from ..comparators import PLUGGRAD, TORCH
from ..session import Metric

NAME = "conv"
CASE = "conv2d (64,3,32,32) * 16x3x3, fwd+bwd"
BATCH, CHANNELS, SIDE, FILTERS, KERNEL = 64, 3, 32, 16, 3
NUMBA_TARGET = 1.5


def _data():
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((BATCH, CHANNELS, SIDE, SIDE)).astype(numpy.float32)
    w = (rng.standard_normal((FILTERS, CHANNELS, KERNEL, KERNEL)) * 0.2).astype(numpy.float32)
    b = rng.standard_normal(FILTERS).astype(numpy.float32)
    g = rng.standard_normal((BATCH, FILTERS, SIDE, SIDE)).astype(numpy.float32)
    return x, w, b, g


def pluggrad_step(backend):
    x, w, b, g = (ag.tensor(array, backend=backend) for array in _data())
    for t in (x, w, b):
        t.requires_grad_()

    def step():
        ag.conv2d(x, w, b, padding=1).backward(g)
        x.grad = w.grad = b.grad = None

    return step


def torch_step(device):
    import torch

    x, w, b, g = (torch.tensor(array, device=device) for array in _data())
    for t in (x, w, b):
        t.requires_grad_(True)

    def step():
        torch.nn.functional.conv2d(x, w, b, padding=1).backward(g)
        x.grad = w.grad = b.grad = None

    return step


_BUILDERS = {PLUGGRAD: pluggrad_step, TORCH: torch_step}


def run(session):
    records = {}
    for comparator in session.pick(*_BUILDERS):
        step = _BUILDERS[comparator.family](comparator.target)
        records[comparator.name] = session.measure(NAME, CASE, comparator, BATCH, step,
                                                   Metric.per_second("steps/s", 1))

    name = "conv2d, numba backend"
    description = f"{CASE} on the numba backend at most {NUMBA_TARGET}x torch-cpu's time"
    missing = next((c for c in ("numba", "torch-cpu") if c not in records), None)
    if missing is not None:
        session.target_not_measured(name, description, NUMBA_TARGET,
                                    f"{missing}: {session.why_not_run(missing)}")
        return
    pair = [records["numba"], records["torch-cpu"]]
    mine, reference = (record["seconds"]["median"] for record in pair)
    session.check_target(name, description, mine / reference, NUMBA_TARGET,
                         f"numba {mine * 1e3:.3f} ms/step, torch-cpu {reference * 1e3:.3f} "
                         f"ms/step", lambda: pluggrad_step("numba"), records=pair)
