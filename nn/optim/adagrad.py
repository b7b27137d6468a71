"""Adagrad: steps scaled by the root of the summed squared gradients."""

import autograd as ag

from .optimizer import Optimizer, check_hyperparameters


class Adagrad(Optimizer):
    """PyTorch's rule: g = grad + weight_decay * p; lr_t = lr / (1 + (t - 1) * lr_decay);
    s += g**2 (s starts at initial_accumulator_value); p -= lr_t * g / (sqrt(s) + eps)."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        hyperparameters = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                               initial_accumulator_value=initial_accumulator_value, eps=eps)
        check_hyperparameters("Adagrad", hyperparameters)
        if lr < 0:
            raise ValueError(f"Adagrad: lr must be >= 0, got {lr}")
        if lr_decay < 0:
            raise ValueError(f"Adagrad: lr_decay must be >= 0, got {lr_decay}")
        if weight_decay < 0:
            raise ValueError(f"Adagrad: weight_decay must be >= 0, got {weight_decay}")
        if initial_accumulator_value < 0:
            raise ValueError(f"Adagrad: initial_accumulator_value must be >= 0, got "
                             f"{initial_accumulator_value}")
        if eps < 0:
            raise ValueError(f"Adagrad: eps must be >= 0, got {eps}")
        super().__init__(params, hyperparameters)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = ag.full(param.shape, group["initial_accumulator_value"],
                                   dtype=param.dtype, backend=param.backend)
        state["step"] += 1
        ag.updates.adagrad_step_(param, grad, state["sum"], state["step"], group["lr"],
                                 group["lr_decay"], group["weight_decay"], group["eps"])
