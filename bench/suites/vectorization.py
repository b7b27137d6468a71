"""vectorization: why array programs beat scalar ones. One linear layer `y = x @ W.T + b`
with n inputs, n outputs and a batch of n, its loss `y.sum()` differentiated with respect
to W and b, computed three ways on each backend:

- a Python loop over scalars: every weight, bias and input a 0-d tensor, each output built
  from n multiply-adds (micrograd's way: 2 n^3 graph nodes);
- a Python loop over rows: one matrix-vector product per sample, stacked (n products);
- one vectorised op: a single matrix product for the whole batch.

The figure is milliseconds per step (forward, backward and resetting the gradients). The
scalar loop stops at a small n, where it already takes seconds per step.
"""

import numpy

import autograd as ag

from ..comparators import PLUGGRAD
from ..session import Metric

NAME = "vectorization"
SCALARS = "loop over scalars"
ROWS = "loop over rows"
VECTORISED = "one vectorised op"


def _data(n):
    rng = numpy.random.default_rng(0)
    return (rng.standard_normal((n, n)).astype(numpy.float32),
            rng.standard_normal((n, n)).astype(numpy.float32) / numpy.sqrt(n),
            rng.standard_normal(n).astype(numpy.float32))


def _scalar_loop(backend, n):
    x, w, b = _data(n)
    inputs = x.tolist()
    weights = [[ag.tensor(v, requires_grad=True, backend=backend) for v in row] for row in w]
    biases = [ag.tensor(v, requires_grad=True, backend=backend) for v in b]
    leaves = [v for row in weights for v in row] + biases

    def step():
        total = 0.0
        for sample in inputs:
            for row, bias in zip(weights, biases):
                out = bias
                for weight, value in zip(row, sample):
                    out = out + weight * value
                total = out + total
        total.backward()
        for leaf in leaves:
            leaf.grad = None

    return step


def _row_loop(backend, n):
    x, w, b = (ag.tensor(array, backend=backend) for array in _data(n))
    w.requires_grad_()
    b.requires_grad_()

    def step():
        ag.stack([w @ row + b for row in x]).sum().backward()
        w.grad = None
        b.grad = None

    return step


def _vectorised(backend, n):
    x, w, b = (ag.tensor(array, backend=backend) for array in _data(n))
    w.requires_grad_()
    b.requires_grad_()

    def step():
        (x @ w.T + b).sum().backward()
        w.grad = None
        b.grad = None

    return step


def run(session):
    sizes = [4, 8, 16, 32, 64, 128, 256] + ([] if session.quick else [512, 1024])
    largest = {SCALARS: 16 if session.quick else 32, ROWS: sizes[-1], VECTORISED: sizes[-1]}
    ways = {SCALARS: _scalar_loop, ROWS: _row_loop, VECTORISED: _vectorised}
    metric = Metric.per_call("ms/step", 1e3)
    for comparator in session.pick(PLUGGRAD):
        for way, build in ways.items():
            for n in sizes:
                if n <= largest[way]:
                    session.measure(NAME, way, comparator, n, build(comparator.target, n),
                                    metric)
