"""Normalisation layers: BatchNorm1d, BatchNorm2d and LayerNorm, with PyTorch's parameter and
buffer names (weight, bias, running_mean, running_var, num_batches_tracked), so their state
dicts move to and from PyTorch."""

import autograd as ag

from .module import Module, Parameter


class _BatchNorm(Module):
    """Batch normalisation over axis 1. In training it normalises with the batch's
    statistics and moves the running ones towards them by `momentum` (with the unbiased
    variance, as PyTorch does; `momentum=None` gives the plain average over all batches so
    far); in eval mode it uses the running statistics. `affine` adds the learned scale
    (weight, ones) and shift (bias, zeros); `track_running_stats=False` always uses the
    batch's statistics and keeps no buffers."""

    _input_ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, *, dtype=None, backend=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ag.ones(num_features, dtype=dtype, backend=backend))
            self.bias = Parameter(ag.zeros(num_features, dtype=dtype, backend=backend))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", ag.zeros(num_features, dtype=dtype,
                                                          backend=backend))
            self.register_buffer("running_var", ag.ones(num_features, dtype=dtype,
                                                        backend=backend))
            self.register_buffer("num_batches_tracked", ag.zeros((), dtype="int64",
                                                                 backend=backend))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            with ag.no_grad():
                self.running_mean *= 0.0
                self.running_var *= 0.0
                self.running_var += 1.0
                self.num_batches_tracked *= 0

    def forward(self, x):
        if x.ndim not in self._input_ndims:
            shapes = " or ".join(f"{n}-D" for n in self._input_ndims)
            raise ValueError(f"{type(self).__name__}: expected {shapes} input, got shape "
                             f"{tuple(x.shape)}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            with ag.no_grad():
                self.num_batches_tracked += 1
            if momentum is None:
                momentum = 1.0 / self.num_batches_tracked.item()
        # Without running statistics (track_running_stats=False) the batch's are used even in
        # eval mode, as in PyTorch; the running ones are None then.
        use_batch_stats = self.training or not self.track_running_stats
        return ag.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C."""

    _input_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C."""

    _input_ndims = (4,)


class LayerNorm(Module):
    """Normalisation of each sample over its trailing `normalized_shape` axes, with an
    elementwise learned scale (weight, ones) and shift (bias, zeros) when
    `elementwise_affine`."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, *,
                 dtype=None, backend=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
            tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = Parameter(ag.ones(*shape, dtype=dtype, backend=backend))
            if bias:
                self.bias = Parameter(ag.zeros(*shape, dtype=dtype, backend=backend))

    def forward(self, x):
        return ag.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
