"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

import autograd as ag

from .optimizer import Optimizer, check_hyperparameters


class SGD(Optimizer):
    """PyTorch's rule: g = grad + weight_decay * p; with momentum, b = g at the first step,
    then b = momentum * b + (1 - dampening) * g, and g = g + momentum * b (Nesterov) or
    g = b; finally p -= lr * g."""

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0):
        hyperparameters = dict(lr=lr, momentum=momentum, dampening=dampening,
                               nesterov=nesterov, weight_decay=weight_decay)
        check_hyperparameters("SGD", hyperparameters, flags=("nesterov",))
        if lr < 0:
            raise ValueError(f"SGD: lr must be >= 0, got {lr}")
        if momentum < 0:
            raise ValueError(f"SGD: momentum must be >= 0, got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, hyperparameters)

    def _update(self, param, grad, state, group):
        buffer = None
        first_step = False
        if group["momentum"]:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = ag.zeros_like(param)
                first_step = True
        ag.updates.sgd_step_(param, grad, buffer, group["lr"], group["momentum"],
                             group["dampening"], group["nesterov"], group["weight_decay"],
                             first_step)
