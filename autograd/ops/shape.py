"""Ops that move elements around without changing them: reshape, transpose, broadcast,
concatenation and stacking, and `sum_to`, the engine's reduction of broadcast gradients."""

from ..function import Function


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return ctx.backend.reshape(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Transpose(Function):
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


class BroadcastTo(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return ctx.backend.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.shape), None


class SumTo(Function):
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


class Concat(Function):
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


class Stack(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        return ctx.backend.stack(arrays, axis)

    @staticmethod
    def backward(ctx, grad):
        prefix = (slice(None),) * ctx.axis
        return (None,) + tuple(grad[prefix + (i,)] if needed else None
                               for i, needed in enumerate(ctx.needs_input_grad[1:]))


class ToBackend(Function):
    """A copy of the data on another backend; the gradient travels back the same way."""

    @staticmethod
    def forward(ctx, a, target):
        ctx.output_backend = target
        out = target.from_numpy(ctx.backend.to_numpy(a))
        return target.copy(out) if out is a else out

    @staticmethod
    def backward(ctx, grad):
        return ToBackend.apply(grad, ctx.backend), None
