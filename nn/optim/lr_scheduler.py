"""Learning-rate schedules: each `step()` (usually once per epoch) sets every parameter
group's "lr" for the next epoch.

As in PyTorch, the updates are chainable: each scales or moves the group's current lr rather
than recomputing it from scratch, so an lr changed by hand (or by a second scheduler) is
carried forward. Left alone, they follow the closed forms in each class's docstring.
"""

import math

from .optimizer import check_number


class LRScheduler:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def step(self):
        """Advance one epoch and write the new learning rates into the optimiser."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self._next_lrs()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _next_lrs(self):
        raise NotImplementedError(f"{type(self).__name__} must define _next_lrs")

    def get_last_lr(self):
        """The learning rates the last step set, one float per parameter group."""
        return [float(lr) for lr in self._last_lr]

    def state_dict(self):
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state):
        self.__dict__.update(state)


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if isinstance(step_size, bool) or not isinstance(step_size, int):
            raise TypeError(f"StepLR: step_size must be an integer, got {step_size!r} "
                            f"({type(step_size).__name__})")
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        check_number("StepLR", "gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def _next_lrs(self):
        factor = self.gamma if self.last_epoch % self.step_size == 0 else 1.0
        return [group["lr"] * factor for group in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma ** epoch."""

    def __init__(self, optimizer, gamma):
        check_number("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer)

    def _next_lrs(self):
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2: half a
    cosine from initial_lr down to eta_min over T_max epochs (then back up, periodically).

    Each step multiplies the distance to eta_min by the ratio of consecutive cosine terms,
    PyTorch's recursive form; where that ratio is 0/0 (the bottom of the cosine) it adds the
    step from the closed form instead."""

    def __init__(self, optimizer, T_max, eta_min=0.0):
        check_number("CosineAnnealingLR", "T_max", T_max)
        check_number("CosineAnnealingLR", "eta_min", eta_min)
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    def _next_lrs(self):
        t, period = self.last_epoch, self.T_max
        groups = self.optimizer.param_groups
        if (t - 1 - period) % (2 * period) == 0:
            rise = (1 - math.cos(math.pi / period)) / 2
            return [group["lr"] + (base - self.eta_min) * rise
                    for group, base in zip(groups, self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [self.eta_min + (group["lr"] - self.eta_min) * ratio for group in groups]
