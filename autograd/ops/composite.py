"""Ops whose forward is one fused backend kernel, or a few backend calls: softmax,
log_softmax, logsumexp, and cross-entropy against class indices.

Each is computed stably (shifted by the maximum), so logits of any size give finite results.
"""

import math

from .. import grad_mode
from ..op import Op
from ..operands import normalize_axes
from ..tensor import Tensor
from .reduce import _reduced_axis_arg, kept_shape


class Softmax(Op):
    method, primitive, onnx = "softmax", "softmax", "Softmax"
    direct = True

    @staticmethod
    def call(x, axis=-1):
        """exp(x) / sum(exp(x)) along `axis`, computed stably."""
        return Softmax.apply(x, normalize_axes("softmax", axis, x.ndim)[0] if x.ndim else None)

    @staticmethod
    def forward(ctx, a, axis):
        y = ctx.backend.softmax(a, axis)
        ctx.axis = axis
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(ctx.axis, keepdims=True)), None


class LogSoftmax(Op):
    method, primitive, onnx = "log_softmax", "log_softmax", "LogSoftmax"
    direct = True

    @staticmethod
    def call(x, axis=-1):
        """log(softmax(x)) along `axis`, computed stably."""
        return LogSoftmax.apply(x, normalize_axes("log_softmax", axis, x.ndim)[0] if x.ndim
                                else None)

    @staticmethod
    def forward(ctx, a, axis):
        y = ctx.backend.log_softmax(a, axis)
        ctx.axis = axis
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - y.exp() * grad.sum(ctx.axis, keepdims=True), None


class LogSumExp(Op):
    method, primitive, onnx = "logsumexp", "logsumexp", "ReduceLogSumExp"

    @staticmethod
    def call(x, axis=None, keepdims=False):
        """log(sum(exp(x))) over `axis`, computed stably."""
        return LogSumExp.apply(x, normalize_axes("logsumexp", axis, x.ndim), keepdims)

    @staticmethod
    def forward(ctx, a, axes, keepdims):
        out = ctx.backend.logsumexp(a, _reduced_axis_arg(axes, a.ndim), keepdims)
        ctx.axes = axes
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        kept = kept_shape(a.shape, ctx.axes)
        return grad.reshape(kept) * (a - out.reshape(kept)).exp(), None, None


class CrossEntropy(Op):
    """Cross-entropy of logits against class indices as one op. Composed from tensor ops it
    records a dozen ops each way; here forward is a few backend calls, and backward is the
    closed form (softmax(logits) - target) times the upstream gradient, the target being the
    one-hot (or smoothed) class distribution, which sums to 1 along the class axis."""

    function = "class_cross_entropy"

    @staticmethod
    def call(logits, labels, axis=-1, label_smoothing=0.0, reduction="mean"):
        """Cross-entropy of `logits` against integer class indices `labels` (the logits'
        shape without `axis`); `reduction` is "mean", "sum" or "none"."""
        return CrossEntropy.apply(logits, labels, axis % logits.ndim, label_smoothing,
                                  reduction)

    @staticmethod
    def forward(ctx, logits, labels, axis, label_smoothing, reduction):
        backend = ctx.backend
        classes = logits.shape[axis]
        target = one_hot_array(backend, labels, classes, axis, backend.dtype_name(logits))
        if label_smoothing:
            target = backend.add(backend.mul(target, 1.0 - label_smoothing),
                                 label_smoothing / classes)
        log_probs = backend.log_softmax(logits, axis)
        loss = backend.neg(backend.sum(backend.mul(log_probs, target), axis))
        ctx.axis, ctx.reduction = axis, reduction
        ctx.mean_scale = 1.0 / loss.size if loss.size else math.nan
        ctx.save_for_backward(logits, log_probs, target)
        if reduction == "mean":
            return backend.mul(backend.sum(loss), ctx.mean_scale)
        if reduction == "sum":
            return backend.sum(loss)
        return loss

    @staticmethod
    def backward(ctx, grad):
        logits, log_probs, target = ctx.saved_tensors
        # The saved log-probabilities give softmax in one pass, but as a constant; when the
        # backward pass is itself recorded, softmax is recomputed from the logits so that the
        # gradient stays differentiable.
        probs = logits.softmax(ctx.axis) if grad_mode.is_grad_enabled() else log_probs.exp()
        if ctx.reduction == "none":
            scale = grad.unsqueeze(ctx.axis)
        elif ctx.reduction == "mean":
            scale = grad * ctx.mean_scale
        else:
            scale = grad
        return (probs - target) * scale, None, None, None, None


def one_hot_array(backend, labels, classes, axis, dtype):
    """Integer class indices as a one-hot array with the classes on `axis`, after checking
    that each is in [0, classes): the one place both cross-entropy and `one_hot` do this."""
    if backend.dtype_name(labels) not in ("int32", "int64"):
        raise TypeError(f"class indices must be integers, got {backend.dtype_name(labels)}; "
                        f"convert them with .astype('int64')")
    if labels.size:
        low, high = backend.item(backend.min(labels)), backend.item(backend.max(labels))
        if low < 0 or high >= classes:
            raise ValueError(f"class indices must be in [0, {classes - 1}], got values in "
                             f"[{low}, {high}]")
    axis = axis % (labels.ndim + 1)
    class_shape = [1] * (labels.ndim + 1)
    class_shape[axis] = classes
    class_ids = backend.reshape(backend.arange(0, classes, 1, "int64"), tuple(class_shape))
    return backend.astype(backend.eq(backend.expand_dims(labels, axis), class_ids), dtype)


def one_hot(labels, num_classes, axis=-1, dtype="float32"):
    """Class indices as one-hot vectors along a new axis `axis` (PyTorch's
    `nn.functional.one_hot`, with NumPy's axis and a float dtype by default): a constant."""
    from ..operands import as_tensor

    labels = as_tensor(labels)
    try:
        array = one_hot_array(labels.backend, labels.data, num_classes, axis, dtype)
    except (TypeError, ValueError) as error:
        raise type(error)(f"one_hot: {error}") from None
    return Tensor(array, labels.backend)
