"""elementwise: forward plus backward of elementwise math over large float32 vectors.

Two cases, each summed to a scalar loss and differentiated with respect to `x`:
- `tanh(x)*sigmoid(x) + x*x`: the activation-style case, transcendental functions included;
  its figure at 4,194,304 elements and its sweep carry the Numba backend's targets;
- `(x*0.5 + 1)*x`: arithmetic only, so memory traffic is all that limits it.

Two more targets hold pluggrad's large-array path against the hand-written code: the numpy
backend's activation case at 4,194,304 elements at most as slow as hand-written NumPy, and
the numba backend's arithmetic case at 4,194,304 and 10^7 elements at least half the
hand-fused kernel's throughput (at most twice its time).

Compared: every pluggrad backend, hand-written NumPy (the same stable formulas, gradient
written out by hand), a hand-fused Numba kernel (one parallel pass that computes the loss
and writes the gradient: the limit for the Numba backend) and PyTorch.
"""

import numpy

import autograd as ag

from .. import numpy_reference
from ..comparators import HAND_NUMBA, HAND_NUMPY, PLUGGRAD, TORCH
from . import sweep

NAME = "elementwise"
ACTIVATION = "tanh(x)*sigmoid(x) + x*x"
ARITHMETIC = "(x*0.5 + 1)*x"
HEADLINE_SIZE = 4_194_304
HEADLINE_TARGET = 0.5
SWEEP_TARGET = 1.10
SWEEP_TOP = 7
HAND_NUMPY_TARGET = 1.0
HAND_FUSED_TARGET = 2.0
HAND_FUSED_SIZES = (HEADLINE_SIZE, 10_000_000)


def _data(n):
    return numpy.random.default_rng(0).standard_normal(n).astype(numpy.float32)


def _pluggrad(loss_of):
    def build(backend, n):
        x = ag.tensor(_data(n), requires_grad=True, backend=backend)

        def step():
            loss_of(x).backward()
            x.grad = None

        return step

    return build


def _torch(loss_of):
    def build(device, n):
        import torch

        x = torch.tensor(_data(n), device=device, requires_grad=True)

        def step():
            loss_of(x).backward()
            x.grad = None

        return step

    return build


def _activation_loss(x):
    return (x.tanh() * x.sigmoid() + x * x).sum()


def _arithmetic_loss(x):
    return ((x * 0.5 + 1.0) * x).sum()


def _activation_hand_numpy(_, n):
    x = _data(n)

    def step():
        t = numpy.tanh(x)
        s = numpy_reference.sigmoid(x)
        loss = (t * s + x * x).sum()
        grad = (1 - t * t) * s + t * s * (1 - s) + 2 * x
        return loss, grad

    return step


def _arithmetic_hand_numpy(_, n):
    x = _data(n)

    def step():
        loss = ((x * 0.5 + 1) * x).sum()
        grad = x + 1
        return loss, grad

    return step


def _hand_numba(kernel_name):
    def build(_, n):
        from .. import kernels

        kernel = getattr(kernels, kernel_name)
        x = _data(n)

        def step():
            grad = numpy.empty_like(x)
            return kernel(x, grad), grad

        return step

    return build


CASES = {
    ACTIVATION: {PLUGGRAD: _pluggrad(_activation_loss), HAND_NUMPY: _activation_hand_numpy,
                 HAND_NUMBA: _hand_numba("activation_forward_backward"),
                 TORCH: _torch(_activation_loss)},
    ARITHMETIC: {PLUGGRAD: _pluggrad(_arithmetic_loss), HAND_NUMPY: _arithmetic_hand_numpy,
                 HAND_NUMBA: _hand_numba("arithmetic_forward_backward"),
                 TORCH: _torch(_arithmetic_loss)},
}


def run(session):
    top = SWEEP_TOP if session.quick else 8
    records = sweep.run(session, NAME, CASES, sweep.powers_of_ten(top) + [HEADLINE_SIZE])
    _check_targets(session, records)


def _check_targets(session, records):
    """Each target is judged on the figures its ratio comes from, and on no others."""
    _check_ratio(session, records, f"elementwise {HEADLINE_SIZE:,}", ACTIVATION, "numba",
                 "numpy", (HEADLINE_SIZE,), HEADLINE_TARGET, "the numpy backend")
    _check_ratio(session, records, f"elementwise {ACTIVATION}, numpy backend against "
                 f"{HAND_NUMPY}", ACTIVATION, "numpy", HAND_NUMPY, (HEADLINE_SIZE,),
                 HAND_NUMPY_TARGET, HAND_NUMPY)
    _check_ratio(session, records, f"elementwise {ARITHMETIC}, numba backend against "
                 f"{HAND_NUMBA}", ARITHMETIC, "numba", HAND_NUMBA, HAND_FUSED_SIZES,
                 HAND_FUSED_TARGET, HAND_NUMBA)
    for case in CASES:
        _check_ratio(session, records, f"elementwise sweep, {case}", case, "numba", "numpy",
                     sweep.powers_of_ten(SWEEP_TOP), SWEEP_TARGET, "the numpy backend",
                     swept=True)


def _check_ratio(session, records, name, case, backend, reference, sizes, limit,
                 reference_name, swept=False):
    """A target: `backend`'s time on `case` at most `limit`x `reference`'s at every one of
    `sizes`, judged on those sizes' figures of the two. A sweep's detail gives its ratios,
    any other target's its times."""
    where = (f"10^2 to 10^{SWEEP_TOP} elements" if swept
             else f"{' and '.join(f'{n:,}' for n in sizes)} float32")
    description = (f"{case} with backward{',' if swept else ' on'} {where}: {backend} backend "
                   f"at most {limit}x {reference_name}'s time{' at every size' if swept else ''}")
    pairs = {n: (records[case, backend, n], records[case, reference, n]) for n in sizes
             if (case, backend, n) in records and (case, reference, n) in records}
    if not pairs:
        missing = (session.why_not_run(backend) or session.why_not_run(reference)
                   or "the sizes were not measured (see skipped)")
        session.target_not_measured(name, description, limit, missing)
        return
    ratios = {n: _seconds(mine) / _seconds(theirs) for n, (mine, theirs) in pairs.items()}
    worst = max(ratios, key=ratios.get)
    if swept:
        detail = "worst at {:,}; ratios: {}".format(
            worst, ", ".join(f"10^{len(str(n)) - 1}: {r:.2f}" for n, r in ratios.items()))
    else:
        detail = ", ".join(f"{n:,}: {backend} {_seconds(mine) * 1e3:.2f} ms, {reference} "
                           f"{_seconds(theirs) * 1e3:.2f} ms"
                           for n, (mine, theirs) in pairs.items())
    session.check_target(name, description, ratios[worst], limit, detail,
                         lambda: CASES[case][PLUGGRAD](backend, worst),
                         records=[record for pair in pairs.values() for record in pair])


def _seconds(record):
    return record["seconds"]["median"]
