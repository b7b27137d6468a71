"""reduce: forward plus backward of reductions over large float32 arrays.

Two cases, each differentiated with respect to `x`:
- `x.sum()`: the whole array to one number; the gradient is all ones;
- `x.max(axis=1).sum()` with `x` of shape (n/100, 100): a row-wise maximum, whose gradient
  routes each row's 1 to its largest entry.

Compared: every pluggrad backend, hand-written NumPy (the gradient written out by hand) and
PyTorch.
"""

import numpy

import autograd as ag

from ..comparators import HAND_NUMPY, PLUGGRAD, TORCH
from . import sweep

NAME = "reduce"
SUM = "x.sum()"
ROW_MAX = "x.max(axis=1).sum(), rows of 100"
ROW = 100


def _data(n, shape):
    return numpy.random.default_rng(0).standard_normal(n).astype(numpy.float32).reshape(shape)


def _sum_pluggrad(backend, n):
    x = ag.tensor(_data(n, (n,)), requires_grad=True, backend=backend)

    def step():
        x.sum().backward()
        x.grad = None

    return step


def _row_max_pluggrad(backend, n):
    x = ag.tensor(_data(n, (n // ROW, ROW)), requires_grad=True, backend=backend)

    def step():
        x.max(axis=1).sum().backward()
        x.grad = None

    return step


def _sum_torch(device, n):
    import torch

    x = torch.tensor(_data(n, (n,)), device=device, requires_grad=True)

    def step():
        x.sum().backward()
        x.grad = None

    return step


def _row_max_torch(device, n):
    import torch

    x = torch.tensor(_data(n, (n // ROW, ROW)), device=device, requires_grad=True)

    def step():
        x.amax(dim=1).sum().backward()
        x.grad = None

    return step


def _sum_hand_numpy(_, n):
    x = _data(n, (n,))

    def step():
        return x.sum(), numpy.ones_like(x)

    return step


def _row_max_hand_numpy(_, n):
    x = _data(n, (n // ROW, ROW))

    def step():
        peak = x.max(axis=1, keepdims=True)
        winners = x == peak
        grad = winners / winners.sum(axis=1, keepdims=True, dtype=x.dtype)
        return peak.sum(), grad

    return step


CASES = {
    SUM: {PLUGGRAD: _sum_pluggrad, HAND_NUMPY: _sum_hand_numpy, TORCH: _sum_torch},
    ROW_MAX: {PLUGGRAD: _row_max_pluggrad, HAND_NUMPY: _row_max_hand_numpy,
              TORCH: _row_max_torch},
}


def run(session):
    sweep.run(session, NAME, CASES, sweep.powers_of_ten(7 if session.quick else 8))
