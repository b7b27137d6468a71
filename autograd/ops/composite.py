"""Ops whose forward is one fused backend kernel: softmax, log_softmax, logsumexp.

Each is computed stably (shifted by the maximum), so logits of any size give finite results.
"""

from ..function import Function
from .reduce import _reduced_axis_arg, kept_shape, normalize_axes


class Softmax(Function):
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


class LogSoftmax(Function):
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


class LogSumExp(Function):
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


def softmax(x, axis=-1):
    return Softmax.apply(x, normalize_axes("softmax", axis, x.ndim)[0] if x.ndim else None)


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(x, normalize_axes("log_softmax", axis, x.ndim)[0] if x.ndim
                            else None)


def logsumexp(x, axis=None, keepdims=False):
    return LogSumExp.apply(x, normalize_axes("logsumexp", axis, x.ndim), keepdims)
