"""Elementwise ops: one class each, forward and backward side by side.

Most take the lean path (see `autograd.op`): the forward is the backend primitive named in
`primitive`, `uses` says what the backward reads, and `backward(ctx, grad)` returns one
gradient per input (None where `ctx.next` has no edge: no gradient is needed there).
Broadcasting needs no code here: the engine sums each gradient back to its input's shape.
"""

import math

from ..function import primitive_op
from ..op import OUTPUT, PREVIOUS_STEP, Op
from ..operands import common_backend, pair
from ..tensor import Tensor

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ------------------------------------------------------------------------------ arithmetic
class Add(Op):
    operator = "__add__"
    primitive, uses, fusable, onnx = "add", ((), ()), True, "Add"

    def backward(ctx, grad):
        return grad, grad


class Sub(Op):
    operator = "__sub__"
    primitive, uses, fusable, onnx = "sub", ((), ()), True, "Sub"

    def backward(ctx, grad):
        return grad, (-grad if ctx.next[1] is not None else None)


class Mul(Op):
    operator = "__mul__"
    primitive, uses, fusable, onnx = "mul", ((1,), (0,)), True, "Mul"

    def backward(ctx, grad):
        a, b = ctx.saved
        return ((grad * b if ctx.next[0] is not None else None),
                (grad * a if ctx.next[1] is not None else None))


class Div(Op):
    operator = "__truediv__"
    primitive, uses, fusable, onnx = "div", ((1,), (0, 1)), True, "Div"

    def backward(ctx, grad):
        a, b = ctx.saved
        return ((grad / b if ctx.next[0] is not None else None),
                (-grad * a / (b * b) if ctx.next[1] is not None else None))


class Pow(Op):
    operator = "__pow__"
    primitive, uses, onnx = "pow", ((0, 1), (0, 1)), "Pow"

    def backward(ctx, grad):
        a, b = ctx.saved
        grad_a = grad_b = None
        if ctx.next[0] is not None:
            grad_a = grad * b * a ** (b - 1)
        if ctx.next[1] is not None and not isinstance(a, Tensor):
            grad_b = grad * a ** b * math.log(a)
        elif ctx.next[1] is not None:
            # d(a**b)/db = a**b * log(a); where a == 0 the limit is 0 (for b > 0).
            safe_a = where(a == 0, 1.0, a)
            grad_b = grad * where(a == 0, 0.0, a ** b * safe_a.log())
        return grad_a, grad_b


class Neg(Op):
    operator = "__neg__"
    primitive, uses, fusable, onnx = "neg", ((),), True, "Neg"

    def backward(ctx, grad):
        return (-grad,)


# ------------------------------------------------------------------------------ unary math
class Exp(Op):
    method, primitive, uses, onnx = "exp", "exp", ((OUTPUT,),), "Exp"

    def backward(ctx, grad):
        return (grad * ctx.output(),)


class Log(Op):
    method, primitive, uses, onnx = "log", "log", ((0,),), "Log"

    def backward(ctx, grad):
        (a,) = ctx.saved
        return (grad / a,)


class Log1p(Op):
    method, primitive, uses = "log1p", "log1p", ((0,),)

    def backward(ctx, grad):
        (a,) = ctx.saved
        return (grad / (a + 1.0),)


class Sqrt(Op):
    method, primitive, uses, fusable, onnx = "sqrt", "sqrt", ((OUTPUT,),), True, "Sqrt"

    def backward(ctx, grad):
        return (grad / (ctx.output() * 2.0),)


class Sin(Op):
    method, primitive, uses, onnx = "sin", "sin", ((0,),), "Sin"

    def backward(ctx, grad):
        (a,) = ctx.saved
        return (grad * a.cos(),)


class Cos(Op):
    method, primitive, uses, onnx = "cos", "cos", ((0,),), "Cos"

    def backward(ctx, grad):
        (a,) = ctx.saved
        return (-grad * a.sin(),)


class Erf(Op):
    method, primitive, uses, onnx = "erf", "erf", ((0,),), "Erf"

    def backward(ctx, grad):
        (a,) = ctx.saved
        return (grad * (-(a * a)).exp() * _TWO_OVER_SQRT_PI,)


class Abs(Op):
    """|a|; its gradient is sign(a) (0 at 0, as PyTorch), and sign's own gradient is zero
    almost everywhere, so a second derivative is zero, not missing."""

    method, operator = "abs", "__abs__"
    primitive, uses, fusable, onnx = "abs", ((0,),), True, "Abs"

    def backward(ctx, grad):
        (a,) = ctx.saved
        return (grad * a.sign(),)


class Sign(Op):
    """-1, 0 or 1 by the sign of each element. Its gradient is zero (not missing), so a
    gradient through `abs` can be differentiated again, as in PyTorch."""

    method, primitive, uses, fusable, onnx = "sign", "sign", ((),), True, "Sign"

    def backward(ctx, grad):
        return (grad * 0.0,)


# --------------------------------------------------- activations, with fused backward ops
class Tanh(Op):
    method, primitive, uses, onnx = "tanh", "tanh", ((OUTPUT,),), "Tanh"

    def backward(ctx, grad):
        return (TanhBackward.apply(grad, ctx.output()),)


class TanhBackward(Op):
    """grad * (1 - y**2) in one pass; differentiable again."""

    primitive, uses = "tanh_backward", ((1,), (0, 1))

    def backward(ctx, gg):
        grad, y = ctx.saved
        return ((TanhBackward.apply(gg, y) if ctx.next[0] is not None else None),
                (gg * grad * y * -2.0 if ctx.next[1] is not None else None))


class Sigmoid(Op):
    method, primitive, uses, onnx = "sigmoid", "sigmoid", ((OUTPUT,),), "Sigmoid"

    def backward(ctx, grad):
        return (SigmoidBackward.apply(grad, ctx.output()),)


class SigmoidBackward(Op):
    """grad * y * (1 - y) in one pass; differentiable again."""

    primitive, uses = "sigmoid_backward", ((1,), (0, 1))

    def backward(ctx, gg):
        grad, y = ctx.saved
        return ((SigmoidBackward.apply(gg, y) if ctx.next[0] is not None else None),
                (gg * grad * (1.0 - y * 2.0) if ctx.next[1] is not None else None))


class Relu(Op):
    method, primitive, uses, onnx = "relu", "relu", ((OUTPUT,),), "Relu"

    @staticmethod
    def fused_steps(a):
        return [("maximum", (a, 0))]

    def backward(ctx, grad):
        return (ReluBackward.apply(grad, ctx.output()),)


class ReluBackward(Op):
    """grad * (y > 0) in one pass. Its gradient in `y` is zero almost everywhere: it is
    given as zeros (not left out), so every tensor upstream gets a second derivative, as in
    PyTorch."""

    primitive, uses = "relu_backward", ((1,), (1,))

    def backward(ctx, gg):
        _, y = ctx.saved
        return ((ReluBackward.apply(gg, y) if ctx.next[0] is not None else None),
                (gg * 0.0 if ctx.next[1] is not None else None))


# ------------------------------------------------------------ selections between values
class Maximum(Op):
    function, primitive, uses, fusable, onnx = "maximum", "maximum", ((0, 1), (0, 1)), True, "Max"

    @staticmethod
    def call(a, b):
        """Elementwise maximum; where a == b each side gets half the gradient."""
        return Maximum.apply(*pair("maximum", a, b))

    def backward(ctx, grad):
        a, b = ctx.saved
        return _split_between(ctx, grad, a > b, a == b)


class Minimum(Op):
    function, primitive, uses, fusable, onnx = "minimum", "minimum", ((0, 1), (0, 1)), True, "Min"

    @staticmethod
    def call(a, b):
        """Elementwise minimum; where a == b each side gets half the gradient."""
        return Minimum.apply(*pair("minimum", a, b))

    def backward(ctx, grad):
        a, b = ctx.saved
        return _split_between(ctx, grad, a < b, a == b)


def _split_between(ctx, grad, first_wins, tie):
    """Gradients of an elementwise choice: all to the winner, half to each side on a tie."""
    share = where(first_wins, 1.0, where(tie, 0.5, 0.0)).astype(grad.dtype)
    return ((grad * share if ctx.next[0] is not None else None),
            (grad * (1.0 - share) if ctx.next[1] is not None else None))


class Clip(Op):
    """`a` limited to [low, high]; either bound may be None, a number or a Tensor. The
    gradient goes to `a` inside the bounds and to the bound that is active outside them."""

    method = "clip"

    @staticmethod
    def call(a, min=None, max=None):
        return Clip.apply(a, _bound(a, min), _bound(a, max))

    @staticmethod
    def fused_steps(value, low, high):
        steps = []
        if low is not None:
            steps.append(("maximum", (value, low)))
            value = PREVIOUS_STEP
        if high is not None:
            steps.append(("minimum", (value, high)))
        return steps

    @staticmethod
    def forward(ctx, a, low, high):
        backend = ctx.backend
        ctx.save_for_backward(a, low, high)
        out = a
        if low is not None:
            out = backend.maximum(out, low)
        if high is not None:
            out = backend.minimum(out, high)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, low, high = ctx.saved_tensors
        needs = ctx.needs_input_grad
        below = (a < low) if low is not None else None
        above = (a > high) if high is not None else None
        grad_low = where(below, grad, 0.0) if needs[1] else None
        grad_high = where(above, grad, 0.0) if needs[2] else None
        if below is not None and above is not None:
            # With low > high, high wins (NumPy's order: maximum, then minimum).
            outside = where(above, True, below)
            if grad_low is not None:
                grad_low = where(above, 0.0, grad_low)
        else:
            outside = below if below is not None else above
        grad_a = grad if outside is None else where(outside, 0.0, grad)
        return grad_a, grad_low, grad_high


def _bound(tensor, value):
    if value is None or type(value) in (int, float, bool) or isinstance(value, Tensor):
        return value
    return Tensor(tensor.backend.operand(value), tensor.backend)


class Where(Op):
    """Elements of `a` where `cond` holds, else of `b`; differentiable in `a` and `b`."""

    function, primitive, onnx, fusable = "where", "where", "Where", True
    direct = True

    @staticmethod
    def call(cond, a, b):
        """Elements of `a` where `cond` holds, else of `b`; differentiable in `a` and `b`."""
        common_backend("where", (cond, a, b))
        return where(cond, a, b)

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


class AsType(Op):
    primitive, fusable, onnx = "astype", True, "Cast"
    direct = True

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
