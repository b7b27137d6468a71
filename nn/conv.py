"""Convolution layers: Conv1d and Conv2d, with PyTorch's parameter names, shapes and
initialisation, so their state dicts load into `torch.nn.Conv1d`/`Conv2d` and back."""

import math

import autograd as ag

from . import init
from .module import Module, Parameter


class _ConvNd(Module):
    """What Conv1d and Conv2d share: weight (out_channels, in_channels / groups, *kernel)
    and bias (out_channels,), initialised as PyTorch does (kaiming_uniform_(a=sqrt(5)) for
    the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, fan_in being
    in_channels / groups times the kernel's size)."""

    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, *, dtype=None, backend=None):
        super().__init__()
        name = type(self).__name__
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels),
                           ("groups", groups)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both divide by groups ({groups})")
        kernel = (kernel_size,) * self._dims if isinstance(kernel_size, int) else \
            tuple(kernel_size)
        if len(kernel) != self._dims:
            raise ValueError(f"{name}: kernel_size must be an int or {self._dims} ints, got "
                             f"{kernel_size!r}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.weight = Parameter(ag.zeros(out_channels, in_channels // groups, *kernel,
                                         dtype=dtype, backend=backend))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if bias:
            self.bias = Parameter(ag.zeros(out_channels, dtype=dtype, backend=backend))
            bound = 1 / math.sqrt(in_channels // groups * math.prod(kernel))
            init.uniform_(self.bias, -bound, bound)
        else:
            self.bias = None

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != 0:
            text += f", padding={self.padding!r}"
        if self.dilation != 1:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) (or (C, L)) inputs; see `autograd.conv1d`."""

    _dims = 1

    def forward(self, x):
        return ag.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                         self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) (or (C, H, W)) inputs; see `autograd.conv2d`."""

    def forward(self, x):
        return ag.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                         self.groups)
