"""Layers that hold or reshape data: Linear, Sequential, Identity, Flatten, Unflatten,
Dropout."""

import math

import autograd as ag
from autograd.sizes import as_size

from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features).

    Initialised as PyTorch does: weight from kaiming_uniform_(a=sqrt(5)), which is
    U(-1/sqrt(in_features), 1/sqrt(in_features)), and bias from the same uniform. As in
    PyTorch, either size may be 0: with no inputs the weight is empty and the output is the
    bias, which then starts at zero."""

    def __init__(self, in_features, out_features, bias=True, *, dtype=None, backend=None):
        super().__init__()
        self.in_features = as_size("nn.Linear", "in_features", in_features)
        self.out_features = as_size("nn.Linear", "out_features", out_features)
        self.weight = Parameter(ag.zeros(out_features, in_features, dtype=dtype,
                                         backend=backend))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if bias:
            self.bias = Parameter(ag.zeros(out_features, dtype=dtype, backend=backend))
            bound = 1 / math.sqrt(in_features) if in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)
        else:
            self.bias = None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Sequential(Module):
    """Modules applied one after the other. Sub-modules are named "0", "1", ... (or by the
    keys of a dict passed alone), so state_dict keys match PyTorch's ("0.weight")."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            named = modules[0].items()
        else:
            named = ((str(i), m) for i, m in enumerate(modules))
        for name, module in named:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: entry {name} is a {type(module).__name__}, "
                                f"not a Module")
            setattr(self, name, module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        try:
            return items[index][1]
        except IndexError:
            raise IndexError(f"Sequential index {index} is out of range for "
                             f"{len(items)} modules") from None

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Identity(Module):
    """Returns its input: a placeholder where a layer is optional."""

    def forward(self, x):
        return x


class Flatten(Module):
    """Collapse the axes from `start_axis` on into one: (N, C, H, W) -> (N, C*H*W)."""

    def __init__(self, start_axis=1):
        super().__init__()
        self.start_axis = start_axis

    def forward(self, x):
        return x.flatten(self.start_axis)

    def extra_repr(self):
        return f"start_axis={self.start_axis}"


class Unflatten(Module):
    """Split axis `axis` into `unflattened_size`: Unflatten(1, (C, H, W)) turns (N, C*H*W)
    into (N, C, H, W), undoing Flatten."""

    def __init__(self, axis, unflattened_size):
        super().__init__()
        self.axis, self.unflattened_size = axis, tuple(unflattened_size)

    def forward(self, x):
        axis = self.axis % x.ndim
        if math.prod(self.unflattened_size) != x.shape[axis] and -1 not in self.unflattened_size:
            raise ValueError(f"Unflatten: axis {self.axis} of the input (shape "
                             f"{tuple(x.shape)}) has {x.shape[axis]} elements, which cannot "
                             f"be split into {self.unflattened_size}")
        return x.reshape(tuple(x.shape[:axis]) + self.unflattened_size +
                         tuple(x.shape[axis + 1:]))

    def extra_repr(self):
        return f"axis={self.axis}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1 / (1 - p);
    in eval mode, the identity."""

    def __init__(self, p=0.5):
        super().__init__()
        F._check_probability("Dropout", "p", p)
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
