"""Ops that move elements around without changing them: reshape, transpose, broadcast,
concatenation and stacking, and `sum_to`, the engine's reduction of broadcast gradients."""

from ..op import Op, composed
from ..operands import normalize_axes, same_backend_tensors, shape_arg


class Reshape(Op):
    method, primitive, onnx = "reshape", "reshape", "Reshape"

    @staticmethod
    def call(x, *shape):
        """The same elements in another shape (`reshape(2, 3)` or `reshape((2, 3))`; one
        size may be -1)."""
        shape = shape_arg("reshape", shape)
        if shape == x.shape:
            return x
        return Reshape.apply(x, shape)

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return ctx.backend.reshape(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Transpose(Op):
    method, primitive, onnx = "transpose", "transpose", "Transpose"

    @staticmethod
    def call(x, *axes):
        """NumPy's transpose: a permutation of the axes (no arguments reverses them)."""
        axes = shape_arg("transpose", axes, "axes") if axes else tuple(reversed(range(x.ndim)))
        if len(axes) != x.ndim or sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the "
                             f"{x.ndim} axes of a tensor of shape {tuple(x.shape)}")
        return Transpose.apply(x, tuple(a % x.ndim for a in axes))

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return ctx.backend.transpose(a, axes)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return grad.transpose(tuple(inverse)), None


class BroadcastTo(Op):
    method, primitive, onnx = "broadcast_to", "broadcast_to", "Expand"

    @staticmethod
    def call(x, *shape):
        """A read-only view repeated along broadcast axes; the gradient sums back."""
        shape = shape_arg("broadcast_to", shape)
        if shape == x.shape:
            return x
        return BroadcastTo.apply(x, shape)

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return ctx.backend.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.shape), None


class SumTo(Op):
    """Sum a broadcast array back to `shape`: over the leading axes broadcasting added and
    the axes where `shape` has 1."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        lead = a.ndim - len(shape)
        if lead < 0:
            raise ValueError(f"cannot sum shape {tuple(a.shape)} to the larger shape {shape}")
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
        for i, n in enumerate(shape):
            if n != 1 and a.shape[lead + i] != n:
                raise ValueError(f"cannot sum shape {tuple(a.shape)} to shape {shape}")
        out = ctx.backend.sum(a, axes, True) if axes else a
        return ctx.backend.reshape(out, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.broadcast_to(ctx.shape), None


def sum_to(x, shape):
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo.apply(x, shape)


class Concat(Op):
    function, primitive, onnx = "concat", "concat", "Concat"
    direct = False  # forward(axis, *arrays) calls concat(arrays, axis)

    @staticmethod
    def call(tensors, axis=0):
        """Join tensors along an existing axis."""
        tensors = same_backend_tensors("concat", tensors)
        ndim = tensors[0].ndim
        if ndim == 0:
            raise ValueError("concat: 0-d tensors cannot be concatenated; use stack")
        return Concat.apply(axis % ndim, *tensors)

    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return ctx.backend.concat(arrays, axis)

    @staticmethod
    def backward(ctx, grad):
        grads = [None]
        start = 0
        prefix = (slice(None),) * ctx.axis
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            if needed:
                grads.append(grad[prefix + (slice(start, start + size),)])
            else:
                grads.append(None)
            start += size
        return tuple(grads)


class Stack(Op):
    function, primitive = "stack", "stack"
    direct = False

    @staticmethod
    def call(tensors, axis=0):
        """Join same-shape tensors along a new axis."""
        tensors = same_backend_tensors("stack", tensors)
        shapes = {tuple(t.shape) for t in tensors}
        if len(shapes) > 1:
            raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
        return Stack.apply(axis % (tensors[0].ndim + 1), *tensors)

    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        return ctx.backend.stack(arrays, axis)

    @staticmethod
    def backward(ctx, grad):
        prefix = (slice(None),) * ctx.axis
        return (None,) + tuple(grad[prefix + (i,)] if needed else None
                               for i, needed in enumerate(ctx.needs_input_grad[1:]))


class ToBackend(Op):
    """A copy of the data on another backend; the gradient travels back the same way."""

    @staticmethod
    def forward(ctx, a, target):
        ctx.output_backend = target
        out = target.from_numpy(ctx.backend.to_numpy(a))
        return target.copy(out) if out is a else out

    @staticmethod
    def backward(ctx, grad):
        return ToBackend.apply(grad, ctx.backend), None


@composed
def swapaxes(x, axis1, axis2):
    """The tensor with two axes exchanged."""
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return Transpose.apply(x, tuple(axes))


@composed
def squeeze(x, axis=None):
    """The tensor without size-1 axes (all of them, or those in `axis`)."""
    if axis is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = normalize_axes("squeeze", axis, x.ndim)
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}, not 1, in "
                                 f"shape {tuple(x.shape)}")
        shape = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    return Reshape.call(x, shape)


@composed
def unsqueeze(x, axis):
    """The tensor with a new size-1 axis at `axis`."""
    ndim = x.ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for a result of {ndim} "
                         f"dimensions")
    shape = list(x.shape)
    shape.insert(axis % ndim, 1)
    return Reshape.call(x, tuple(shape))


@composed
def flatten(x, start_axis=0):
    """The axes from `start_axis` on merged into one."""
    if x.ndim == 0:
        return Reshape.call(x, 1)
    start = start_axis % x.ndim
    return Reshape.call(x, x.shape[:start] + (-1,))
