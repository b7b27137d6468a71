"""Layers and losses as plain functions of tensors; the Module classes call these.

Everything is composed from autograd ops, so gradients (and gradients of gradients) come
from the graph. Where a textbook formula overflows or loses precision, the stable form that
PyTorch uses is written instead, and the comment says why.
"""

import autograd as ag

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------------------ option checks
# Shared with the Module classes, which check their options when built.
def _check_choice(op, name, value, choices):
    if value not in choices:
        raise ValueError(f"{op}: {name} must be one of {', '.join(map(repr, choices))}, got "
                         f"{value!r}")


def _check_probability(op, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{op}: {name} must be a probability in [0, 1], got {value!r}")


def _check_positive(op, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{op}: {name} must be a positive number, got {value!r}")


# ------------------------------------------------------------------------------ layers
def linear(x, weight, bias=None):
    """x @ weight.T + bias, with weight of shape (out_features, in_features)."""
    return ag.linear(x, weight, bias)


def relu(x):
    return x.relu()


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x."""
    return ag.where(x > 0, x, x * negative_slope)


def tanh(x):
    return x.tanh()


def sigmoid(x):
    return x.sigmoid()


def gelu(x, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF: exact through erf, or PyTorch's tanh
    approximation with `approximate="tanh"`."""
    return ag.gelu(x, approximate)


def softmax(x, axis=-1, **torch_names):
    """`torch_names`: PyTorch's `dim=` for axis."""
    return x.softmax(axis, **torch_names)


def log_softmax(x, axis=-1, **torch_names):
    """`torch_names`: PyTorch's `dim=` for axis."""
    return x.log_softmax(axis, **torch_names)


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the kept ones by 1 / (1 - p), so the
    expected value is unchanged; the identity when not training. The mask comes from the
    backend's seeded stream (`autograd.manual_seed`)."""
    return ag.dropout(x, p, training)


# The layer ops of autograd, under PyTorch's functional names (see autograd/layer_ops.py).
conv1d = ag.conv1d
conv2d = ag.conv2d
max_pool2d = ag.max_pool2d
avg_pool2d = ag.avg_pool2d
adaptive_avg_pool2d = ag.adaptive_avg_pool2d
unfold = ag.unfold
fold = ag.fold
pad = ag.pad
embedding = ag.embedding
batch_norm = ag.batch_norm
layer_norm = ag.layer_norm
silu = ag.silu
softplus = ag.softplus


# ------------------------------------------------------------------------------ losses
def _reduce(op, loss, reduction):
    _check_choice(op, "reduction", reduction, _REDUCTIONS)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _target_like(op, input, target):
    """`target` as a tensor of `input`'s shape, on its backend and in its dtype. Shapes must
    match exactly: a (N, 1) prediction against a (N,) target would silently broadcast to
    (N, N)."""
    if not isinstance(target, ag.Tensor):
        target = ag.tensor(target, dtype=input.dtype, backend=input.backend)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: input has shape {tuple(input.shape)} but target has shape "
                         f"{tuple(target.shape)}; reshape one to match (e.g. "
                         f"target.reshape({tuple(input.shape)}))")
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)
    return target


def mse_loss(input, target, reduction="mean"):
    """(input - target) ** 2."""
    diff = input - _target_like("mse_loss", input, target)
    return _reduce("mse_loss", diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """|input - target|."""
    return _reduce("l1_loss", (input - _target_like("l1_loss", input, target)).abs(),
                   reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 * d**2 where d = |input - target| < delta, else delta * (d - 0.5 * delta)."""
    _check_positive("huber_loss", "delta", delta)
    d = (input - _target_like("huber_loss", input, target)).abs()
    loss = ag.where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    return _reduce("huber_loss", loss, reduction)


def _log_floored(p):
    """log(p) floored at -100, PyTorch's convention for binary cross-entropy: p = 0 gives
    -100 and, unlike flooring log(0) = -inf, a finite (zero) gradient."""
    positive = p > 0
    safe = ag.where(positive, p, 1.0)
    return ag.where(positive, safe.log(), -100.0).clip(min=-100.0)


def binary_cross_entropy(input, target, reduction="mean"):
    """-(target * log(input) + (1 - target) * log(1 - input)) for probabilities `input`,
    each log floored at -100 so that probabilities of exactly 0 and 1 give finite losses."""
    target = _target_like("binary_cross_entropy", input, target)
    if input.size and (input.min().item() < 0 or input.max().item() > 1):
        raise ValueError(f"binary_cross_entropy: input must hold probabilities in [0, 1], "
                         f"got values in [{input.min().item()}, {input.max().item()}]; for "
                         f"raw scores (logits) use binary_cross_entropy_with_logits")
    loss = -(target * _log_floored(input) + (1.0 - target) * _log_floored(1.0 - input))
    return _reduce("binary_cross_entropy", loss, reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """Binary cross-entropy of sigmoid(input), computed as
    max(x, 0) - x * y + log1p(exp(-|x|)): exp never overflows, so logits of any size give
    finite losses and gradients. `maximum` splits its gradient at x = 0, which makes the
    gradient there sigmoid(0) - y exactly."""
    target = _target_like("binary_cross_entropy_with_logits", input, target)
    loss = ag.maximum(input, 0.0) - input * target + (-input.abs()).exp().log1p()
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)


def _class_axis(op, input):
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class axis: (C,), (N, C) or "
                         f"(N, C, d1, ...), got a scalar")
    return 0 if input.ndim == 1 else 1


def _check_class_index_shape(op, input, target, axis):
    """Class indices `target` must have `input`'s shape without the class axis."""
    expected = tuple(input.shape[:axis]) + tuple(input.shape[axis + 1:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: class-index target must have shape {expected} for input of "
                         f"shape {tuple(input.shape)}, got {tuple(target.shape)}")


def _one_hot(op, input, target, axis):
    """Class indices `target` as a one-hot tensor shaped like `input` (classes on `axis`)."""
    _check_class_index_shape(op, input, target, axis)
    try:
        return ag.one_hot(target, input.shape[axis], axis, input.dtype)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{op}: {str(error).removeprefix('one_hot: ')}") from None


def _as_target(op, input, target):
    if not isinstance(target, ag.Tensor):
        target = ag.tensor(target, backend=input.backend)
    if target.backend is not input.backend:
        raise TypeError(f"{op}: input is on backend {input.backend.name!r} but target on "
                        f"{target.backend.name!r}; move it with .to({input.backend.name!r})")
    return target


def nll_loss(input, target, reduction="mean"):
    """-input[target] per sample, for log-probabilities `input` of shape (C,), (N, C) or
    (N, C, d1, ...) and integer class indices `target`."""
    target = _as_target("nll_loss", input, target)
    if target.dtype.is_floating or target.dtype == "bool":
        raise TypeError(f"nll_loss: target must hold integer class indices, got "
                        f"{target.dtype}; convert with .astype('int64')")
    axis = _class_axis("nll_loss", input)
    loss = -(input * _one_hot("nll_loss", input, target, axis)).sum(axis)
    return _reduce("nll_loss", loss, reduction)


def cross_entropy(input, target, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits `input` ((C,), (N, C) or (N, C, d1, ...)) against integer
    class indices or class probabilities (a floating target shaped like `input`), computed
    from log_softmax, so logits of any size give finite results.

    With label smoothing e, the target becomes (1 - e) * target + e / C, as in PyTorch."""
    _check_probability("cross_entropy", "label_smoothing", label_smoothing)
    target = _as_target("cross_entropy", input, target)
    axis = _class_axis("cross_entropy", input)
    if not target.dtype.is_floating:
        _check_choice("cross_entropy", "reduction", reduction, _REDUCTIONS)
        _check_class_index_shape("cross_entropy", input, target, axis)
        return ag.class_cross_entropy(input, target, axis, label_smoothing,
                                                reduction)
    _refuse_float_class_indices(input, target, axis)
    target = _target_like("cross_entropy", input, target)
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / input.shape[axis]
    loss = -(input.log_softmax(axis) * target).sum(axis)
    return _reduce("cross_entropy", loss, reduction)


def _refuse_float_class_indices(input, target, axis):
    """A float target shaped like class indices (input's shape without the class axis) is
    class indices of the wrong dtype, not probabilities: say how to make either work."""
    index_shape = tuple(n for i, n in enumerate(input.shape) if i != axis)
    if tuple(target.shape) == index_shape and tuple(target.shape) != tuple(input.shape):
        raise TypeError(
            f"cross_entropy: target has shape {tuple(target.shape)} and dtype "
            f"{target.dtype}: class indices must be integers (target.astype('int64')), and "
            f"class probabilities must have the input's shape {tuple(input.shape)}")


def wasserstein_loss(scores, target, reduction="mean"):
    """-(target * scores), target +1 for real and -1 for generated samples (a number or a
    tensor shaped like `scores`): a critic minimises it over both kinds, a generator over
    its own samples with target +1."""
    if not isinstance(target, (int, float)) or isinstance(target, bool):
        target = _target_like("wasserstein_loss", scores, target)
    return _reduce("wasserstein_loss", -(scores * target), reduction)
