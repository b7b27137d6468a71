"""Weight initialisers, with the formulas and fan rules PyTorch documents.

Each fills its tensor in place (the object stays the same, so a module or optimiser that holds
it sees the new values), draws from the tensor's own backend stream (seeded by
`autograd.manual_seed`) in the tensor's dtype, and returns the tensor.
"""

import math

import autograd as ag

from .module import rebind

_UNIT_GAIN = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through `nonlinearity`;
    `param` is leaky_relu's negative slope (0.01 when None)."""
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: leaky_relu's negative slope must be a number, "
                             f"got {slope!r}")
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; use one of "
                     f"{', '.join(_UNIT_GAIN + ('tanh', 'relu', 'leaky_relu', 'selu'))}")


def _calculate_fan_in_and_fan_out(tensor):
    """PyTorch's rule: fan_in = size(1) * receptive field, fan_out = size(0) * receptive
    field, where the receptive field is the product of the sizes after the first two."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got "
                         f"shape {tuple(tensor.shape)}")
    receptive_field = 1
    for n in tensor.shape[2:]:
        receptive_field *= n
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor, mode):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")


def _fill(tensor, values):
    with ag.no_grad():
        rebind(tensor, values)
    return tensor


def _draw_uniform(tensor, low, high):
    u = ag.rand(*tensor.shape, dtype=tensor.dtype, backend=tensor.backend)
    return u * (high - low) + low


def _draw_normal(tensor, mean, std):
    return ag.randn(*tensor.shape, dtype=tensor.dtype, backend=tensor.backend) * std + mean


def constant_(tensor, value):
    """Fill with `value`."""
    return _fill(tensor, ag.full(tensor.shape, value, dtype=tensor.dtype,
                                 backend=tensor.backend))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def uniform_(tensor, a=0.0, b=1.0):
    """Draws from U(a, b)."""
    return _fill(tensor, _draw_uniform(tensor, a, b))


def normal_(tensor, mean=0.0, std=1.0):
    """Draws from N(mean, std**2)."""
    return _fill(tensor, _draw_normal(tensor, mean, std))


def xavier_uniform_(tensor, gain=1.0):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _draw_uniform(tensor, -bound, bound))


def xavier_normal_(tensor, gain=1.0):
    """N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return _fill(tensor, _draw_normal(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out))))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al., 2015); `a` is leaky_relu's slope.
    A tensor with no elements (a Linear layer with 0 inputs) is left as it is, as in
    PyTorch, since its fan may be 0."""
    if tensor.size == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return _fill(tensor, _draw_uniform(tensor, -bound, bound))


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std**2) with std = gain / sqrt(fan); an empty tensor is left as it is."""
    if tensor.size == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return _fill(tensor, _draw_normal(tensor, 0.0, std))


def orthogonal_(tensor, gain=1.0):
    """A (semi-)orthogonal matrix times `gain` (Saxe et al., 2013): the tensor, viewed as
    rows x (everything else), has orthonormal rows or columns, whichever are fewer.

    The matrix is the orthogonal factor u @ vh of a Gaussian matrix's SVD, which is uniformly
    distributed over the orthogonal matrices, as PyTorch's sign-corrected QR factor is."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: needs a tensor of at least 2 dimensions, got shape "
                         f"{tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = tensor.size // rows
    gaussian = ag.randn(rows, cols, dtype=tensor.dtype, backend=tensor.backend)
    u, _, vh = ag.svd(gaussian)
    return _fill(tensor, ((u @ vh) * gain).reshape(tensor.shape))
