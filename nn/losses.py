"""Losses as modules: each holds its options and calls the function in `nn.functional`.

Every loss takes `reduction`: "mean" (the default), "sum", or "none" for one value per
element (per sample for the classification losses).
"""

from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_choice(type(self).__name__, "reduction", reduction, F._REDUCTIONS)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        F._check_positive("HuberLoss", "delta", delta)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, delta={self.delta}"


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (after a sigmoid)."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of raw scores: the sigmoid is folded in, stably."""

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits against class indices or class probabilities."""

    def __init__(self, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        F._check_probability("CrossEntropyLoss", "label_smoothing", label_smoothing)
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.reduction, self.label_smoothing)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (after log_softmax) at class indices."""

    def forward(self, input, target):
        return F.nll_loss(input, target, self.reduction)


class WassersteinLoss(_Loss):
    """-(target * scores): a WGAN critic's (and generator's) objective, target +1 for real
    and -1 for generated samples."""

    def forward(self, scores, target):
        return F.wasserstein_loss(scores, target, self.reduction)
