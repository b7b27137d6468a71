"""End to end: a 3-layer MLP learns a fixed regression problem with each optimiser on every
backend, everything (layers, loss, backward, fused updates) working together."""

import numpy as np
import pytest

import autograd as ag
import nn
from nn.optim import SGD, Adagrad, Adam, AdamW, RMSprop

STEPS = 300
# Fitting sin(2x) on [-2, 2] starts at a mean squared error of about 0.43 (the target's
# variance is 0.5); each optimiser below gets under 0.005 in 300 full-batch steps, so the
# threshold leaves a margin of two or more while still meaning "it fitted the curve".
THRESHOLD = 0.01
OPTIMISERS = {
    "sgd_momentum": (SGD, dict(lr=0.1, momentum=0.9)),
    "adam": (Adam, dict(lr=0.01)),
    "adamw": (AdamW, dict(lr=0.01)),
    "rmsprop": (RMSprop, dict(lr=0.001)),
    "adagrad": (Adagrad, dict(lr=0.1)),
}


@pytest.mark.parametrize("name", list(OPTIMISERS))
def test_mlp_fits_a_curve(backend, name):
    cls, kwargs = OPTIMISERS[name]
    x = np.linspace(-2, 2, 64, dtype=np.float32).reshape(-1, 1)
    inputs, targets = ag.tensor(x), ag.tensor(np.sin(2 * x))
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 1))
    optimizer = cls(model.parameters(), **kwargs)
    loss_fn = nn.MSELoss()
    first = loss_fn(model(inputs), targets).item()
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
    with ag.no_grad():
        final = loss_fn(model(inputs), targets).item()
    assert first > 0.3
    assert final < THRESHOLD, f"{name} on {backend}: loss {first:.4f} -> {final:.4f}"
    assert all(p.backend.name == backend for p in model.parameters())
