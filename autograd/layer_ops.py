"""The ops neural-network layers are made of: convolution, pooling, padding, window
(un)folding, embedding lookup, batch and layer normalisation, and the smooth activations
(gelu, silu, softplus) and dropout.

Arguments and layouts follow `torch.nn.functional`: images are (N, C, H, W) (or (C, H, W)
without a batch), sequences (N, C, L); a size argument is an int or a pair. Convolution,
(un)folding, padding and max pooling are ops of their own (autograd/ops/conv.py and
pool.py); the rest are composed from Tensor ops, which give their gradients of every order.
"""

import math

from backends.base import window_count

from . import grad_mode
from .creation import rand, tensor
from .ops.conv import Conv2d, Fold, Pad, Unfold
from .ops.elementwise import where
from .ops.pool import MaxPool2d
from .tensor import Tensor


# ------------------------------------------------------------------------------ arguments
def _pair(op, name, value, smallest):
    """`value` (an int or a pair of ints, each at least `smallest`) as a pair."""
    pair = (value, value) if isinstance(value, int) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in pair)
            or min(pair) < smallest):
        raise ValueError(f"{op}: {name} must be an int >= {smallest} or a pair of them, got "
                         f"{value!r}")
    return tuple(pair)


def _single(op, name, value, smallest):
    """A 1-D size argument (an int or a 1-tuple) as an int."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
        raise ValueError(f"{op}: {name} must be an int >= {smallest}, got {value!r}")
    return value


def _check_tensor(op, name, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")


def _batched(op, x, spatial_axes):
    """`x` with a batch axis (added when the input has none) and whether one was added."""
    _check_tensor(op, "input", x)
    if x.ndim == spatial_axes + 1:
        return x.unsqueeze(0), True
    if x.ndim != spatial_axes + 2:
        layout = "(N, C, H, W) or (C, H, W)" if spatial_axes == 2 else "(N, C, L) or (C, L)"
        raise ValueError(f"{op}: input must be {layout}, got shape {tuple(x.shape)}")
    return x, False


def _output_size(op, size, kernel, dilation, padding, stride):
    """The output sizes along (H, W), or a ValueError when the window does not fit."""
    sizes = tuple(window_count(*args) for args in zip(size, kernel, dilation, padding, stride))
    if min(sizes) < 1:
        raise ValueError(f"{op}: the window (kernel {kernel}, dilation {dilation}) does not "
                         f"fit the input of size {tuple(size)} padded by {padding}; use a "
                         f"larger input, more padding or a smaller kernel")
    return sizes


# ------------------------------------------------------------------------------ convolution
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, PyTorch's conv2d: x (N, C, H, W), weight
    (O, C / groups, kh, kw), bias (O,) or None. `padding` is an int, a pair, "valid" (none)
    or "same" (the output keeps the input's size; stride 1 only)."""
    op = "conv2d"
    x, unbatched = _batched(op, x, 2)
    _check_tensor(op, "weight", weight)
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be (out_channels, in_channels / groups, kh, kw), "
                         f"got shape {tuple(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    out_channels, group_channels = weight.shape[0], weight.shape[1]
    if x.shape[1] != group_channels * groups or out_channels % groups:
        raise ValueError(f"{op}: input has {x.shape[1]} channels and weight has shape "
                         f"{tuple(weight.shape)} with groups={groups}; the input needs "
                         f"weight.shape[1] * groups = {group_channels * groups} channels and "
                         f"out_channels ({out_channels}) must divide by groups")
    if bias is not None:
        _check_tensor(op, "bias", bias)
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"{op}: bias must have shape ({out_channels},), got "
                             f"{tuple(bias.shape)}")
    stride = _pair(op, "stride", stride, 1)
    dilation = _pair(op, "dilation", dilation, 1)
    kernel = tuple(weight.shape[2:])
    x, padding = _conv_padding(op, x, padding, kernel, dilation, stride)
    _output_size(op, x.shape[2:], kernel, dilation, padding, stride)
    out = Conv2d.apply(x, weight, bias, stride, padding, dilation, groups)
    return out.squeeze(0) if unbatched else out


def _conv_padding(op, x, padding, kernel, dilation, stride):
    """The padding as a pair; "same" pads x itself where the padding is uneven."""
    if padding == "valid":
        return x, (0, 0)
    if padding != "same":
        return x, _pair(op, "padding", padding, 0)
    if stride != (1, 1):
        raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    if all(t % 2 == 0 for t in totals):
        return x, (totals[0] // 2, totals[1] // 2)
    widths = ((0, 0), (0, 0)) + tuple((t // 2, t - t // 2) for t in totals)
    return Pad.apply(x, widths, 0.0), (0, 0)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation, PyTorch's conv1d: x (N, C, L), weight (O, C / groups, k),
    bias (O,) or None; `padding` is an int, "valid" or "same". Computed as conv2d over an
    image one row high."""
    op = "conv1d"
    x, unbatched = _batched(op, x, 1)
    _check_tensor(op, "weight", weight)
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must be (out_channels, in_channels / groups, k), got "
                         f"shape {tuple(weight.shape)}")
    if padding not in ("same", "valid"):
        padding = (0, _single(op, "padding", padding, 0))
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias,
                 (1, _single(op, "stride", stride, 1)), padding,
                 (1, _single(op, "dilation", dilation, 1)), groups).squeeze(2)
    return out.squeeze(0) if unbatched else out


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding windows of x (N, C, H, W) as columns, (N, C * kh * kw, L), each column's
    entries ordered by channel, kernel row, kernel column (PyTorch's unfold, im2col)."""
    op = "unfold"
    _check_tensor(op, "input", x)
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be (N, C, H, W), got shape {tuple(x.shape)}")
    geometry = (_pair(op, "kernel_size", kernel_size, 1), _pair(op, "dilation", dilation, 1),
                _pair(op, "padding", padding, 0), _pair(op, "stride", stride, 1))
    _output_size(op, x.shape[2:], *geometry)
    return Unfold.apply(x, *geometry)


def fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold (col2im): columns (N, C * kh * kw, L) summed back into an image
    (N, C, H, W) of `output_size` (H, W), overlapping windows adding up."""
    op = "fold"
    _check_tensor(op, "input", cols)
    size = _pair(op, "output_size", output_size, 1)
    geometry = (_pair(op, "kernel_size", kernel_size, 1), _pair(op, "dilation", dilation, 1),
                _pair(op, "padding", padding, 0), _pair(op, "stride", stride, 1))
    windows = math.prod(_output_size(op, size, *geometry))
    window = geometry[0][0] * geometry[0][1]
    if cols.ndim != 3 or cols.shape[1] % window or cols.shape[2] != windows:
        raise ValueError(f"{op}: input must be (N, C * {window}, {windows}) for output_size "
                         f"{size} and kernel_size {geometry[0]}, got shape "
                         f"{tuple(cols.shape)}")
    return Fold.apply(cols, size, *geometry)


def pad(x, pad, value=0.0, mode="constant"):
    """`x` padded with `value`, PyTorch's convention: `pad` lists (before, after) pairs from
    the last axis backwards, (left, right, top, bottom, ...)."""
    op = "pad"
    _check_tensor(op, "input", x)
    if mode != "constant":
        raise ValueError(f"{op}: only mode='constant' is supported, got {mode!r}")
    pad = tuple(pad)
    if (len(pad) % 2 or len(pad) // 2 > x.ndim
            or any(isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in pad)):
        raise ValueError(f"{op}: pad must hold (before, after) pairs of non-negative ints, at "
                         f"most one pair per axis ({x.ndim} here), got {pad}")
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
    widths = ((0, 0),) * (x.ndim - len(pairs)) + tuple(reversed(pairs))
    return Pad.apply(x, widths, value)


# ------------------------------------------------------------------------------ pooling
def _pool_geometry(op, x, kernel_size, stride, padding, dilation):
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pair(op, "stride", stride, 1)
    padding = _pair(op, "padding", padding, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size "
                         f"{kernel}")
    geometry = (kernel, _pair(op, "dilation", dilation, 1), padding, stride)
    return geometry, _output_size(op, x.shape[2:], *geometry)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """The maximum of every window (stride defaults to the kernel size); padding never wins.
    The gradient goes to the first maximum of each window, as in PyTorch."""
    op = "max_pool2d"
    x, unbatched = _batched(op, x, 2)
    geometry, _ = _pool_geometry(op, x, kernel_size, stride, padding, dilation)
    out = MaxPool2d.apply(x, *geometry)
    return out.squeeze(0) if unbatched else out


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """The mean of every window (stride defaults to the kernel size). Zero padding counts
    towards the mean unless `count_include_pad=False`, as in PyTorch."""
    op = "avg_pool2d"
    x, unbatched = _batched(op, x, 2)
    geometry, (out_h, out_w) = _pool_geometry(op, x, kernel_size, stride, padding, 1)
    n, c, h, w = x.shape
    sums = Unfold.apply(x.reshape(n * c, 1, h, w), *geometry).sum(1)
    if count_include_pad or geometry[2] == (0, 0):
        out = sums * (1.0 / (geometry[0][0] * geometry[0][1]))
    else:
        ones = Tensor(x.backend.ones((1, 1, h, w), x.backend.dtype_name(x.data)), x.backend)
        out = sums / Unfold.apply(ones, *geometry).sum(1)
    out = out.reshape(n, c, out_h, out_w)
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool2d(x, output_size):
    """Means over a grid of `output_size` (an int or a pair; None keeps that axis) nearly
    equal bins, PyTorch's bins: bin i of n over a length L spans
    [floor(i * L / n), ceil((i + 1) * L / n)). Computed as A_h @ x @ A_w.T, with A the
    averaging matrices, so it is exact and differentiable to any order."""
    op = "adaptive_avg_pool2d"
    x, unbatched = _batched(op, x, 2)
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size, output_size)
    sizes = tuple(size if out is None else out for out, size in zip(output_size, x.shape[2:]))
    _pair(op, "output_size", sizes, 1)
    rows = _averaging_matrix(x, sizes[0], x.shape[2])
    columns = _averaging_matrix(x, sizes[1], x.shape[3])
    out = rows @ x @ columns.T
    return out.squeeze(0) if unbatched else out


def _averaging_matrix(x, bins, length):
    """(bins, length): row i averages bin i of PyTorch's adaptive pooling."""
    matrix = []
    for i in range(bins):
        start, end = (i * length) // bins, -((-(i + 1) * length) // bins)
        matrix.append([1.0 / (end - start) if start <= j < end else 0.0
                       for j in range(length)])
    return tensor(matrix, dtype=x.dtype, backend=x.backend)


# ------------------------------------------------------------------------------ lookup
def embedding(indices, weight, padding_idx=None):
    """Rows of `weight` (num_embeddings, dim) picked by integer `indices` of any shape: the
    result has shape indices.shape + (dim,). Rows picked at `padding_idx` get no gradient."""
    op = "embedding"
    _check_tensor(op, "weight", weight)
    if not isinstance(indices, Tensor):
        indices = tensor(indices, dtype="int64", backend=weight.backend)
    if indices.dtype.is_floating or indices.dtype == "bool":
        raise TypeError(f"{op}: indices must be integers, got {indices.dtype}; convert with "
                        f".astype('int64')")
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be (num_embeddings, embedding_dim), got shape "
                         f"{tuple(weight.shape)}")
    if indices.size:
        low, high = indices.min().item(), indices.max().item()
        if low < 0 or high >= weight.shape[0]:
            raise ValueError(f"{op}: indices must be in [0, {weight.shape[0] - 1}] for "
                             f"{weight.shape[0]} embeddings, got values in [{low}, {high}]")
    rows = weight[indices]
    if padding_idx is None:
        return rows
    if padding_idx < 0:
        padding_idx += weight.shape[0]
    return where((indices != padding_idx).unsqueeze(-1), rows, rows.detach())


# ------------------------------------------------------------------------------ normalisation
def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise every channel (axis 1) of x (N, C, ...) to zero mean and unit variance,
    then scale by `weight` and shift by `bias` (each (C,) or None). In training, the
    statistics are the batch's (biased variance), and the running statistics, when given,
    move towards them by `momentum`, with the unbiased variance (PyTorch's rule); otherwise
    the running statistics are used."""
    op = "batch_norm"
    _check_tensor(op, "input", x)
    if x.ndim < 2:
        raise ValueError(f"{op}: input must be (N, C, ...), got shape {tuple(x.shape)}")
    channels = x.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (channels,):
            raise ValueError(f"{op}: {name} must have shape ({channels},) for input of shape "
                             f"{tuple(x.shape)}, got {tuple(value.shape)}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // channels
        if count < 2:
            raise ValueError(f"{op}: training needs more than one value per channel, got "
                             f"input of shape {tuple(x.shape)}")
        mean = x.mean(axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axes, keepdims=True)
        if running_mean is not None:
            with grad_mode.no_grad():
                running_mean *= 1.0 - momentum
                running_mean += mean.reshape(channels) * momentum
                running_var *= 1.0 - momentum
                running_var += var.reshape(channels) * (momentum * count / (count - 1))
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: evaluation (training=False) needs running_mean and "
                             f"running_var")
        centered = x - running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = centered * (var + eps) ** -0.5
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing axes `normalized_shape` (an int or a tuple) of each
    sample to zero mean and unit (biased) variance, then scale and shift elementwise by
    `weight` and `bias` (each of `normalized_shape`, or None)."""
    op = "layer_norm"
    _check_tensor(op, "input", x)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(normalized_shape)
    if not shape or tuple(x.shape[x.ndim - len(shape):]) != shape or len(shape) > x.ndim:
        raise ValueError(f"{op}: normalized_shape {shape} must be the trailing axes of the "
                         f"input's shape {tuple(x.shape)}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centered = x - x.mean(axes, keepdims=True)
    var = (centered * centered).mean(axes, keepdims=True)
    out = centered * (var + eps) ** -0.5
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# ------------------------------------------------------------------------------ activations
def gelu(x, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF: exact through erf, or PyTorch's tanh
    approximation with `approximate="tanh"`."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be one of 'none', 'tanh', got "
                         f"{approximate!r}")
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * (inner.tanh() + 1.0) * 0.5
    return x * ((x * (1.0 / math.sqrt(2.0))).erf() + 1.0) * 0.5


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return x * x.sigmoid()


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (PyTorch's
    rule, which keeps exp from overflowing)."""
    scaled = x * beta
    linear = scaled > threshold
    smooth = where(linear, 0.0, scaled).exp().log1p() * (1.0 / beta)
    return where(linear, x, smooth)


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the kept ones by 1 / (1 - p), so the
    expected value is unchanged; the identity when not training. The mask comes from the
    backend's seeded stream (`autograd.manual_seed`)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    draws = rand(*x.shape, dtype=x.dtype, backend=x.backend)
    keep = (draws >= p).astype(x.dtype) * (1.0 / (1.0 - p))
    return x * keep
