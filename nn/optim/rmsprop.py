"""RMSprop: steps scaled by a running root mean square of the gradient."""

import autograd as ag

from .optimizer import Optimizer, check_hyperparameters


class RMSprop(Optimizer):
    """PyTorch's rule: g = grad + weight_decay * p; v = alpha * v + (1 - alpha) * g**2;
    centered: a = alpha * a + (1 - alpha) * g and v~ = v - a**2 (else v~ = v);
    with momentum, b = momentum * b + g / (sqrt(v~) + eps) and p -= lr * b, else
    p -= lr * g / (sqrt(v~) + eps)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        hyperparameters = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                               momentum=momentum, centered=centered)
        check_hyperparameters("RMSprop", hyperparameters, flags=("centered",))
        if lr < 0:
            raise ValueError(f"RMSprop: lr must be >= 0, got {lr}")
        if eps < 0:
            raise ValueError(f"RMSprop: eps must be >= 0, got {eps}")
        if not 0 <= alpha <= 1:
            raise ValueError(f"RMSprop: alpha must be in [0, 1], got {alpha}")
        if momentum < 0:
            raise ValueError(f"RMSprop: momentum must be >= 0, got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"RMSprop: weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, hyperparameters)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = ag.zeros_like(param)
        if group["momentum"] and "momentum_buffer" not in state:
            state["momentum_buffer"] = ag.zeros_like(param)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = ag.zeros_like(param)
        state["step"] += 1
        ag.updates.rmsprop_step_(param, grad, state["square_avg"], state.get("grad_avg"),
                                 state.get("momentum_buffer"), group["lr"], group["alpha"],
                                 group["eps"], group["weight_decay"], group["momentum"],
                                 group["centered"])
