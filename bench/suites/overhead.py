"""overhead: what one op costs, forward plus backward, on a tensor too small for the math to
matter.

The step is a chain of 300 ops on a (16,) float32 tensor `x`, cycling four ops 75 times:
multiply by the constant 0.9, add a (16,) parameter `b`, tanh, sigmoid (tanh and sigmoid
keep every value in (-1, 1), so nothing overflows however long the chain). Then
`.sum().backward()` fills `x.grad` and `b.grad` (75 contributions summed), and both are reset
to None. The figure is the step's time divided by 300: microseconds per op, the sum and the
backward launch included. The hand-written NumPy step runs the same chain forward, keeps
what backward needs, and walks it back by hand; PyTorch runs it with eager CPU autograd.

Two more cases run the chain through the minimal engines of `bench/floor_engines.py`: one
of closures on arrays, the least any Python engine that records a graph can cost per op, and
the `Function` protocol (context, apply, backward in Tensor ops) stripped of every check,
the least that protocol can cost (built-in ops take the leaner path of `autograd.op`). The
targets' details give both as ratios to PyTorch.
"""

import numpy

import autograd as ag

from .. import floor_engines, numpy_reference
from ..comparators import HAND_NUMPY, PLUGGRAD, TORCH
from ..session import Metric

NAME = "overhead"
CASE = "300-op chain on (16,)"
CLOSURES_CASE = "300-op chain on (16,), closure engine"
FUNCTIONS_CASE = "300-op chain on (16,), Function engine"
CYCLES = 75
OPS_PER_CYCLE = 4
CHAIN_LENGTH = CYCLES * OPS_PER_CYCLE
SIZE = 16
SCALE = 0.9
TARGET = 0.7


def _inputs():
    rng = numpy.random.default_rng(0)
    return (rng.standard_normal(SIZE).astype(numpy.float32),
            rng.standard_normal(SIZE).astype(numpy.float32))


def pluggrad_step(backend):
    x_data, b_data = _inputs()
    x = ag.tensor(x_data, requires_grad=True, backend=backend)
    b = ag.tensor(b_data, requires_grad=True, backend=backend)

    def step():
        h = x
        for _ in range(CYCLES):
            h = (h * SCALE + b).tanh().sigmoid()
        h.sum().backward()
        x.grad = None
        b.grad = None

    return step


def hand_numpy_step():
    x, b = _inputs()

    def step():
        saved = []
        h = x
        for _ in range(CYCLES):
            t = numpy.tanh(h * SCALE + b)
            h = numpy_reference.sigmoid(t)
            saved.append((t, h))
        loss = h.sum()
        grad = numpy.ones_like(h)
        grad_b = numpy.zeros_like(b)
        for t, s in reversed(saved):
            grad = grad * s * (1 - s)
            grad = grad * (1 - t * t)
            grad_b += grad
            grad = grad * SCALE
        return loss, grad, grad_b

    return step


def floor_engine_step(make_leaf):
    """The chain through a floor engine whose leaves `make_leaf(array)` makes; each call
    returns the gradients of x and b."""
    x, b = (make_leaf(data) for data in _inputs())

    def step():
        h = x
        for _ in range(CYCLES):
            h = (h * SCALE + b).tanh().sigmoid()
        h.sum().backward()
        grads = x.grad, b.grad
        x.grad = None
        b.grad = None
        return grads

    return step


def closure_engine_step():
    return floor_engine_step(floor_engines.Value)


def function_engine_step():
    return floor_engine_step(lambda data: floor_engines.Tensor(data, requires_grad=True))


_FLOORS = {CLOSURES_CASE: closure_engine_step, FUNCTIONS_CASE: function_engine_step}


def torch_step(device):
    import torch

    x_data, b_data = _inputs()
    x = torch.tensor(x_data, device=device, requires_grad=True)
    b = torch.tensor(b_data, device=device, requires_grad=True)

    def step():
        h = x
        for _ in range(CYCLES):
            h = (h * SCALE + b).tanh().sigmoid()
        h.sum().backward()
        x.grad = None
        b.grad = None

    return step


_BUILDERS = {PLUGGRAD: pluggrad_step, HAND_NUMPY: lambda _: hand_numpy_step(), TORCH: torch_step}


def run(session):
    metric = Metric.per_call("us/op", 1e6 / CHAIN_LENGTH)
    times, records = {}, {}
    for comparator in session.pick(*_BUILDERS):
        step = _BUILDERS[comparator.family](comparator.target)
        record = session.measure(NAME, CASE, comparator, SIZE, step, metric)
        times[comparator.name] = record["metric"]["median"]
        records[comparator.name] = record
    floors = {}
    for comparator in session.pick(HAND_NUMPY):
        for case, build in _FLOORS.items():
            record = session.measure(NAME, case, comparator, SIZE, build(), metric)
            floors[case] = record["metric"]["median"]

    torch_cpu = times.get("torch-cpu")
    for comparator in session.pick(PLUGGRAD):
        name = f"overhead, {comparator.name} backend"
        description = f"per-op time on {comparator.name} at most {TARGET}x PyTorch CPU's"
        if torch_cpu is None:
            session.target_not_measured(name, description, TARGET,
                                        f"torch-cpu: {session.why_not_run('torch-cpu')}")
            continue
        ours = times[comparator.name]
        floor_note = "".join(
            f"; {case.split(', ')[1]} {floors[case]:.2f} us/op, {floors[case] / torch_cpu:.2f}x"
            for case in _FLOORS if case in floors)
        session.check_target(
            name, description, ours / torch_cpu, TARGET,
            f"{ours:.2f} us/op vs PyTorch {torch_cpu:.2f} us/op{floor_note}",
            lambda backend=comparator.target: pluggrad_step(backend),
            records=[records[comparator.name], records["torch-cpu"]])
