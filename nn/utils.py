"""Gradient clipping, applied between `backward()` and the optimiser's `step()`."""

import math

import autograd as ag


def _gradients(params):
    params = [params] if isinstance(params, ag.Tensor) else list(params)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(params, max_norm, norm_type=2.0):
    """Scale all gradients together so that their joint `norm_type`-norm (taken over every
    element of every gradient, as if they were one vector) is at most `max_norm`.
    Returns the norm before clipping, as a 0-d tensor."""
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm!r}")
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (or inf), got "
                         f"{norm_type!r}")
    params = _gradients(params)
    if not params:
        return ag.tensor(0.0)
    with ag.no_grad():
        if norm_type == math.inf:
            total = ag.stack([p.grad.abs().max() for p in params]).max()
        else:
            powered = ag.stack([(p.grad.abs() ** norm_type).sum() for p in params])
            total = powered.sum() ** (1.0 / norm_type)
        # The 1e-6 keeps a zero norm from dividing by zero, as in PyTorch.
        scale = (max_norm / (total + 1e-6)).clip(max=1.0)
        for p in params:
            p.grad *= scale
    return total


def clip_grad_value_(params, clip_value):
    """Clip every gradient element into [-clip_value, clip_value]."""
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value!r}")
    with ag.no_grad():
        for p in _gradients(params):
            p.grad = p.grad.clip(-clip_value, clip_value)

