"""Elementwise ops: forward on arrays and backward in Tensor ops, side by side.

Broadcasting needs no code here: the engine sums each gradient back to its input's shape.
"""

import math

from ..function import Function, primitive_op
from ..tensor import Tensor

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _constant(ctx, array):
    return Tensor(array, ctx.backend)


# ------------------------------------------------------------------------------ arithmetic
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.sub(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.mul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad * b if needs[0] else None), (grad * a if needs[1] else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.div(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad / b if needs[0] else None), (-grad * a / (b * b) if needs[1] else None)


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.pow(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_a = grad_b = None
        if needs[0]:
            grad_a = grad * b * a ** (b - 1)
        if needs[1] and not isinstance(a, Tensor):
            grad_b = grad * a ** b * math.log(a)
        elif needs[1]:
            # d(a**b)/db = a**b * log(a); where a == 0 the limit is 0 (for b > 0).
            safe_a = where(a == 0, 1.0, a)
            grad_b = grad * where(a == 0, 0.0, a ** b * safe_a.log())
        return grad_a, grad_b


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return ctx.backend.neg(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad


# ------------------------------------------------------------------------------ unary math
class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        y = ctx.backend.exp(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.backend.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a


class Log1p(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.backend.log1p(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (a + 1.0)


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        y = ctx.backend.sqrt(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (y * 2.0)


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.backend.sin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a.cos()


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.backend.cos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return -grad * a.sin()


class Erf(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.backend.erf(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * (-(a * a)).exp() * _TWO_OVER_SQRT_PI


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.backend.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * _constant(ctx, ctx.backend.sign(a.data))


# --------------------------------------------------- activations, with fused backward ops
class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        y = ctx.backend.tanh(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return TanhBackward.apply(grad, y)


class TanhBackward(Function):
    """grad * (1 - y**2) in one pass; differentiable again."""

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        return ctx.backend.tanh_backward(grad, y)

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return ((TanhBackward.apply(gg, y) if needs[0] else None),
                (gg * grad * y * -2.0 if needs[1] else None))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        y = ctx.backend.sigmoid(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return SigmoidBackward.apply(grad, y)


class SigmoidBackward(Function):
    """grad * y * (1 - y) in one pass; differentiable again."""

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        return ctx.backend.sigmoid_backward(grad, y)

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return ((SigmoidBackward.apply(gg, y) if needs[0] else None),
                (gg * grad * (1.0 - y * 2.0) if needs[1] else None))


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        y = ctx.backend.relu(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return ReluBackward.apply(grad, y)


class ReluBackward(Function):
    """grad * (y > 0) in one pass; its own gradient in `y` is zero almost everywhere."""

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(y)
        return ctx.backend.relu_backward(grad, y)

    @staticmethod
    def backward(ctx, gg):
        (y,) = ctx.saved_tensors
        return (ReluBackward.apply(gg, y) if ctx.needs_input_grad[0] else None), None


# ------------------------------------------------------------ selections between values
class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_between(ctx, grad, a > b, a == b)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_between(ctx, grad, a < b, a == b)


def _split_between(ctx, grad, first_wins, tie):
    """Gradients of an elementwise choice: all to the winner, half to each side on a tie."""
    share = where(first_wins, 1.0, where(tie, 0.5, 0.0)).astype(grad.dtype)
    needs = ctx.needs_input_grad
    return (grad * share if needs[0] else None), (grad * (1.0 - share) if needs[1] else None)


class Clip(Function):
    @staticmethod
    def forward(ctx, a, low, high):
        ctx.save_for_backward(a)
        ctx.low, ctx.high = low, high
        out = a
        if low is not None:
            out = ctx.backend.maximum(out, low)
        if high is not None:
            out = ctx.backend.minimum(out, high)
        return out

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        inside = None
        if ctx.low is not None:
            inside = a >= ctx.low
        if ctx.high is not None:
            below = a <= ctx.high
            inside = below if inside is None else where(inside, below, False)
        if inside is None:
            return grad, None, None
        return where(inside, grad, 0.0), None, None


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        return ctx.backend.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond = ctx.cond
        needs = ctx.needs_input_grad
        return (None,
                Where.apply(cond, grad, 0.0) if needs[1] else None,
                Where.apply(cond, 0.0, grad) if needs[2] else None)


class AsType(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.input_dtype = ctx.backend.dtype_name(a)
        return ctx.backend.astype(a, dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype), None


def where(cond, a, b):
    """Elements of `a` where `cond` holds, else of `b`; differentiable in `a` and `b`."""
    if isinstance(cond, Tensor):
        cond_array = cond.data
        backend = cond.backend
    else:
        backend = next(t.backend for t in (a, b) if isinstance(t, Tensor))
        cond_array = backend.operand(cond)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return primitive_op(backend, "where", cond_array, a, b)
    return Where.apply(cond_array, a, b)
