"""mlp: training steps per second of two multilayer perceptrons, each step a forward pass,
the loss, backward and an optimiser update on a fixed batch.

- 784-512-256-10 with ReLU, cross-entropy over 10 classes, SGD with momentum 0.9 (lr 0.01),
  batch 256 (an MNIST-sized classifier: the matrix products dominate);
- 2-16-16-1 with tanh, mean squared error, plain SGD (lr 0.1), the full batch of 200 points
  each step (the playground's size: per-op overhead dominates).

The classifier runs a second time as one compiled program (`autograd.jit.compile_step`:
forward, backward and the update traced once, replayed without graph objects, elementwise
runs fused on Numba). A third case times only the classifier's eight matrix products
(hand-written, the same BLAS calls every NumPy-based step makes): no step can be faster,
so it shows how much of the hand-written step is left for fusion to save, and a classifier
step, eager or compiled, measured faster than it is reported as noisy. The classifier's
steps are timed interleaved, a repeat of each in turn, as are the playground's: each target
compares figures taken over the same stretch of time.

The fourth case is one epoch of `python -m nn.playground`'s default run, exactly as the
command trains it (spiral, 2-8-8-1 tanh, 50 batches of 10 points, Adam), on each backend:
the Numba backend must never be the slower choice for such small arrays.

pluggrad runs each with `nn` (Linear, Sequential, ReLU/Tanh, functional.cross_entropy or
mse_loss, optim.SGD); hand-written NumPy runs the same math with the gradients written out
(the limit the engine aims at); PyTorch runs it with torch.nn and torch.optim.
"""

import numpy

import autograd as ag
import backends
import nn
from nn.playground.session import Config as PlaygroundConfig
from nn.playground.session import Session as PlaygroundSession

from ..comparators import HAND_NUMPY, PLUGGRAD, TORCH
from ..numpy_reference import log_softmax
from ..session import Metric

NAME = "mlp"
CLASSIFIER = "784-512-256-10 ReLU, batch 256"
PRODUCTS = "784-512-256-10 matrix products only"
PLAYGROUND = "2-16-16-1 tanh, 200 points"
PLAYGROUND_RUN = "nn.playground default run"
COMPILED = "784-512-256-10 ReLU, batch 256, compiled"
CLASSIFIER_SIZES = (784, 512, 256, 10)
PLAYGROUND_SIZES = (2, 16, 16, 1)
BATCH = 256
POINTS = 200
MOMENTUM = 0.9
CLASSIFIER_LR = 0.01
PLAYGROUND_LR = 0.1
NUMPY_TARGET = 1.05
COMPILED_NUMPY_TARGET = 1.0
COMPILED_NUMBA_TARGET = 0.85
PLAYGROUND_TARGET = 0.6
PLAYGROUND_RUN_TARGET = 1.0


def _classifier_data():
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((BATCH, CLASSIFIER_SIZES[0])).astype(numpy.float32)
    return x, rng.integers(0, CLASSIFIER_SIZES[-1], BATCH)


def _playground_data():
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((POINTS, 2)).astype(numpy.float32)
    return x, (x[:, :1] * x[:, 1:] > 0).astype(numpy.float32)


def _layer_weights(sizes):
    """PyTorch's default Linear initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    rng = numpy.random.default_rng(1)
    weights = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        bound = 1 / numpy.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(numpy.float32))
        weights.append(rng.uniform(-bound, bound, fan_out).astype(numpy.float32))
    return weights


# ---------------------------------------------------------------------------- pluggrad
def _pluggrad_model(sizes, activation):
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    return nn.Sequential(*layers[:-1])


def _pluggrad_training_step(model, loss_fn, optimizer, x, target):
    def step():
        optimizer.zero_grad()
        loss_fn(model(x), target).backward()
        optimizer.step()

    return step


def pluggrad_classifier_step(backend):
    x, labels = _classifier_data()
    with backends.use(backend):
        model = _pluggrad_model(CLASSIFIER_SIZES, nn.ReLU)
        x, labels = ag.tensor(x), ag.tensor(labels)
    optimizer = nn.optim.SGD(model.parameters(), lr=CLASSIFIER_LR, momentum=MOMENTUM)
    return _pluggrad_training_step(model, nn.functional.cross_entropy, optimizer, x, labels)


def pluggrad_compiled_classifier_step(backend):
    """The classifier's step as one `compile_step` program, traced by a first step here."""
    x, labels = _classifier_data()
    with backends.use(backend):
        model = _pluggrad_model(CLASSIFIER_SIZES, nn.ReLU)
        x, labels = ag.tensor(x), ag.tensor(labels)
    optimizer = nn.optim.SGD(model.parameters(), lr=CLASSIFIER_LR, momentum=MOMENTUM)
    compiled = ag.jit.compile_step(model, nn.functional.cross_entropy, optimizer)
    compiled(x, labels)

    def step():
        compiled(x, labels)

    return step


def pluggrad_playground_epoch(backend):
    """One epoch of the playground's default run, as `python -m nn.playground` trains it."""
    session = PlaygroundSession(PlaygroundConfig(backend=backend))
    return session.step


def pluggrad_playground_step(backend):
    x, target = _playground_data()
    with backends.use(backend):
        model = _pluggrad_model(PLAYGROUND_SIZES, nn.Tanh)
        x, target = ag.tensor(x), ag.tensor(target)
    optimizer = nn.optim.SGD(model.parameters(), lr=PLAYGROUND_LR)
    return _pluggrad_training_step(model, nn.functional.mse_loss, optimizer, x, target)


# ---------------------------------------------------------------------------- hand-written
def hand_numpy_classifier_step(_):
    x, labels = _classifier_data()
    params = _layer_weights(CLASSIFIER_SIZES)
    buffers = [numpy.zeros_like(p) for p in params]
    rows = numpy.arange(BATCH)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = numpy.maximum(x @ w1.T + b1, 0)
        h2 = numpy.maximum(h1 @ w2.T + b2, 0)
        log_probs = log_softmax(h2 @ w3.T + b3)
        loss = -log_probs[rows, labels].mean()

        d_logits = numpy.exp(log_probs)
        d_logits[rows, labels] -= 1
        d_logits /= BATCH
        d_h2 = (d_logits @ w3) * (h2 > 0)
        d_h1 = (d_h2 @ w2) * (h1 > 0)
        grads = [d_h1.T @ x, d_h1.sum(0), d_h2.T @ h1, d_h2.sum(0), d_logits.T @ h2,
                 d_logits.sum(0)]
        for param, grad, buffer in zip(params, grads, buffers):
            buffer *= MOMENTUM
            buffer += grad
            param -= CLASSIFIER_LR * buffer
        return loss

    return step


def hand_numpy_classifier_products(_):
    """Only the eight matrix products of `hand_numpy_classifier_step`, on its shapes: the
    part of the step every NumPy-based engine spends in the same BLAS calls. A step can be
    no faster than this, so it bounds what fusing the other passes can save."""
    x, _ = _classifier_data()
    w1, _, w2, _, w3, _ = _layer_weights(CLASSIFIER_SIZES)
    h1 = numpy.maximum(x @ w1.T, 0)
    h2 = numpy.maximum(h1 @ w2.T, 0)
    d_logits = h2 @ w3.T
    d_h2 = d_logits @ w3
    d_h1 = d_h2 @ w2

    def step():
        return (x @ w1.T, h1 @ w2.T, h2 @ w3.T, d_logits @ w3, d_h2 @ w2, d_h1.T @ x,
                d_h2.T @ h1, d_logits.T @ h2)

    return step


def hand_numpy_playground_step(_):
    x, target = _playground_data()
    params = _layer_weights(PLAYGROUND_SIZES)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = numpy.tanh(x @ w1.T + b1)
        h2 = numpy.tanh(h1 @ w2.T + b2)
        error = h2 @ w3.T + b3 - target
        loss = (error * error).mean()

        d_out = error * (2 / error.size)
        d_h2 = (d_out @ w3) * (1 - h2 * h2)
        d_h1 = (d_h2 @ w2) * (1 - h1 * h1)
        grads = [d_h1.T @ x, d_h1.sum(0), d_h2.T @ h1, d_h2.sum(0), d_out.T @ h2,
                 d_out.sum(0)]
        for param, grad in zip(params, grads):
            param -= PLAYGROUND_LR * grad
        return loss

    return step


# ---------------------------------------------------------------------------- PyTorch
def _torch_step(device, sizes, activation, data, loss_name, optimizer_args):
    import torch

    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), getattr(torch.nn, activation)()]
    model = torch.nn.Sequential(*layers[:-1]).to(device)
    x, target = (torch.from_numpy(array).to(device) for array in data)
    loss_fn = getattr(torch.nn.functional, loss_name)
    optimizer = torch.optim.SGD(model.parameters(), **optimizer_args)

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), target).backward()
        optimizer.step()

    return step


def torch_classifier_step(device):
    return _torch_step(device, CLASSIFIER_SIZES, "ReLU", _classifier_data(), "cross_entropy",
                       {"lr": CLASSIFIER_LR, "momentum": MOMENTUM})


def torch_playground_step(device):
    return _torch_step(device, PLAYGROUND_SIZES, "Tanh", _playground_data(), "mse_loss",
                       {"lr": PLAYGROUND_LR})


# Each group's steps are timed interleaved (their targets compare them with each other).
CASES = {
    CLASSIFIER: (BATCH, {PLUGGRAD: pluggrad_classifier_step,
                         HAND_NUMPY: hand_numpy_classifier_step,
                         TORCH: torch_classifier_step}),
    PRODUCTS: (BATCH, {HAND_NUMPY: hand_numpy_classifier_products}),
    PLAYGROUND: (POINTS, {PLUGGRAD: pluggrad_playground_step,
                          HAND_NUMPY: hand_numpy_playground_step,
                          TORCH: torch_playground_step}),
    PLAYGROUND_RUN: (PlaygroundConfig().batch_size, {PLUGGRAD: pluggrad_playground_epoch}),
    COMPILED: (BATCH, {PLUGGRAD: pluggrad_compiled_classifier_step}),
}
GROUPS = ((CLASSIFIER, PRODUCTS, COMPILED), (PLAYGROUND,), (PLAYGROUND_RUN,))


def run(session):
    records = {}
    for group in GROUPS:
        entries = []
        for case in group:
            size, builders = CASES[case]
            unit = "epochs/s" if case == PLAYGROUND_RUN else "steps/s"
            for comparator in session.pick(*builders):
                step = builders[comparator.family](comparator.target)
                entries.append((case, comparator, size, step, Metric.per_second(unit, 1)))
        measured = session.measure_interleaved(NAME, entries)
        for (case, comparator, *_), record in zip(entries, measured):
            records[case, comparator.name] = record

    floor = records.get((PRODUCTS, HAND_NUMPY))
    for (case, _), record in records.items():
        if case in (CLASSIFIER, COMPILED) and floor is not None:
            session.below_floor(record, floor, "its eight matrix products alone")

    _compare(session, records, CLASSIFIER, "numpy", HAND_NUMPY, NUMPY_TARGET,
             pluggrad_classifier_step)
    _compare(session, records, COMPILED, "numpy", HAND_NUMPY, COMPILED_NUMPY_TARGET,
             pluggrad_compiled_classifier_step)
    _compare(session, records, COMPILED, "numba", HAND_NUMPY, COMPILED_NUMBA_TARGET,
             pluggrad_compiled_classifier_step, _products_share(records))
    for comparator in session.pick(PLUGGRAD):
        _compare(session, records, PLAYGROUND, comparator.name, "torch-cpu", PLAYGROUND_TARGET,
                 pluggrad_playground_step)
    _compare(session, records, PLAYGROUND_RUN, "numba", "numpy", PLAYGROUND_RUN_TARGET,
             pluggrad_playground_epoch, unit="epoch")


def _products_share(records):
    """What the matrix products alone take, as a share of the hand-written step."""
    products = records.get((PRODUCTS, HAND_NUMPY))
    step = records.get((CLASSIFIER, HAND_NUMPY))
    if products is None or step is None:
        return ""
    products, step = products["seconds"]["median"], step["seconds"]["median"]
    return (f"; the matrix products alone take {products * 1e3:.3f} ms, "
            f"{products / step:.2f}x the hand-written step")


def _compare(session, records, case, ours, theirs, limit, build, note="", unit="step"):
    """A target: `case` on backend `ours` against `theirs` on the same network (the eager
    case's hand-written figure for the compiled case)."""
    compiled = case == COMPILED
    reference_case = CLASSIFIER if compiled else case
    name = f"mlp {case.split(' ')[0]}{' compiled' if compiled else ''}, {ours} backend"
    description = f"{case} {unit} on the {ours} backend at most {limit}x {theirs}'s time"
    if (case, ours) not in records or (reference_case, theirs) not in records:
        missing = ours if (case, ours) not in records else theirs
        session.target_not_measured(name, description, limit,
                                    f"{missing}: {session.why_not_run(missing)}")
        return
    pair = [records[case, ours], records[reference_case, theirs]]
    mine, reference = (record["seconds"]["median"] for record in pair)
    session.check_target(name, description, mine / reference, limit,
                         f"{ours} {mine * 1e3:.3f} ms/{unit}, {theirs} {reference * 1e3:.3f} "
                         f"ms/{unit}{note}", lambda: build(ours), records=pair)
