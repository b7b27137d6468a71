"""Adam and AdamW: per-parameter step sizes from running moments of the gradient."""

import autograd as ag

from .optimizer import Optimizer, check_hyperparameters


class Adam(Optimizer):
    """PyTorch's rule (Kingma & Ba, 2015): g = grad + weight_decay * p;
    m = b1 * m + (1 - b1) * g; v = b2 * v + (1 - b2) * g**2; with amsgrad, v_max =
    max(v_max, v) replaces v below; p -= lr * (m / (1 - b1**t)) /
    (sqrt(v / (1 - b2**t)) + eps)."""

    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        name = type(self).__name__
        hyperparameters = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                               amsgrad=amsgrad)
        check_hyperparameters(name, hyperparameters, flags=("amsgrad",), pairs=("betas",))
        hyperparameters["betas"] = tuple(betas)
        if lr < 0:
            raise ValueError(f"{name}: lr must be >= 0, got {lr}")
        if eps < 0:
            raise ValueError(f"{name}: eps must be >= 0, got {eps}")
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")
        if weight_decay < 0:
            raise ValueError(f"{name}: weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, hyperparameters)

    def _update_group(self, params, group):
        """All of the group's parameters in one call per backend and step count (they share
        a step count unless some missed steps without a gradient)."""
        batches = {}
        for param in params:
            state = self.state.setdefault(param, {})
            if not state:
                state["step"] = 0
                state["exp_avg"] = ag.zeros_like(param)
                state["exp_avg_sq"] = ag.zeros_like(param)
            if group["amsgrad"] and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = ag.zeros_like(param)
            state["step"] += 1
            batches.setdefault((param.backend, state["step"]), []).append(param)
        beta1, beta2 = group["betas"]
        for (_, step), batch in batches.items():
            states = [self.state[param] for param in batch]
            ag.updates.adam_steps_(
                batch, [param.grad for param in batch], [s["exp_avg"] for s in states],
                [s["exp_avg_sq"] for s in states], [s.get("max_exp_avg_sq") for s in states],
                step, group["lr"], beta1, beta2, group["eps"], group["weight_decay"],
                group["amsgrad"], self.decoupled_weight_decay)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): p *= 1 - lr *
    weight_decay before the Adam step, instead of adding weight_decay * p to the gradient."""

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
