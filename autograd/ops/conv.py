"""Convolution and the window ops it is made of: `Unfold` (im2col), `Fold` (col2im), `Pad`
and `Conv2d`.

Unfold and Fold are each other's adjoint, so each one's backward is the other: gradients of
any order of a convolution come out as unfolds, folds and matrix products. Every geometry
argument (`kernel_size`, `dilation`, `padding`, `stride`) is an (along H, along W) pair of
ints; the public functions in `autograd.layer_ops` check and normalise them.
"""

from backends.base import window_count

from .. import grad_mode
from ..op import Op


class Unfold(Op):
    """(N, C, H, W) -> (N, C * kh * kw, L): every window as a column (PyTorch's `unfold`)."""

    @staticmethod
    def forward(ctx, x, kernel_size, dilation, padding, stride):
        ctx.image_size = tuple(x.shape[2:])
        ctx.geometry = (kernel_size, dilation, padding, stride)
        return ctx.backend.im2col(x, kernel_size, dilation, padding, stride)

    @staticmethod
    def backward(ctx, grad):
        return (Fold.apply(grad, ctx.image_size, *ctx.geometry),) + (None,) * 4


class Fold(Op):
    """(N, C * kh * kw, L) -> (N, C, H, W): columns summed back into the image (PyTorch's
    `fold`), the adjoint of Unfold."""

    @staticmethod
    def forward(ctx, cols, output_size, kernel_size, dilation, padding, stride):
        ctx.geometry = (kernel_size, dilation, padding, stride)
        return ctx.backend.col2im(cols, output_size, kernel_size, dilation, padding, stride)

    @staticmethod
    def backward(ctx, grad):
        return (Unfold.apply(grad, *ctx.geometry),) + (None,) * 5


class Pad(Op):
    """Constant padding; `widths` holds a (before, after) pair for every axis."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.inner = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return ctx.backend.pad(x, widths, value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inner], None, None


class Conv2d(Op):
    """2-D cross-correlation of x (N, C, H, W) with weight (O, C / groups, kh, kw), plus an
    optional bias (O,): the windows of x (im2col) times the weight as one batched matrix
    product per group.

    Backward: the input's gradient is the weight's transpose times the output gradient,
    folded back into an image (a transposed convolution); the weight's gradient is the output
    gradient times the windows of x. The windows computed in forward are reused when the
    backward pass is not itself recorded, and unfolded again from x when it is, so that the
    gradient stays differentiable in x."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        backend = ctx.backend
        n, out_channels = x.shape[0], weight.shape[0]
        kernel_size = tuple(weight.shape[2:])
        cols = backend.im2col(x, kernel_size, dilation, padding, stride)
        windows = cols.shape[2]
        weight_groups = backend.reshape(weight, (groups, out_channels // groups, -1))
        cols_groups = backend.reshape(cols, (n, groups, -1, windows))
        if bias is None:
            out = backend.matmul(weight_groups, cols_groups)
        else:
            out = backend.matmul_add(weight_groups, cols_groups, backend.reshape(
                bias, (groups, out_channels // groups, 1)))
        out_h = window_count(x.shape[2], kernel_size[0], dilation[0], padding[0], stride[0])
        out = backend.reshape(out, (n, out_channels, out_h, windows // out_h))
        ctx.geometry = (kernel_size, dilation, padding, stride)
        ctx.groups = groups
        ctx.save_for_backward(x, weight, cols)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, cols = ctx.saved_tensors
        needs = ctx.needs_input_grad
        groups = ctx.groups
        n, out_channels = grad.shape[0], grad.shape[1]
        grad_groups = grad.reshape(n, groups, out_channels // groups, -1)
        weight_groups = weight.reshape(groups, out_channels // groups, -1)
        grad_x = grad_weight = grad_bias = None
        if needs[0]:
            grad_cols = weight_groups.swapaxes(1, 2) @ grad_groups
            grad_cols = grad_cols.reshape(n, -1, grad.shape[2] * grad.shape[3])
            grad_x = Fold.apply(grad_cols, tuple(x.shape[2:]), *ctx.geometry)
        if needs[1]:
            if grad_mode.is_grad_enabled():
                cols = Unfold.apply(x, *ctx.geometry)
            cols_groups = cols.reshape(n, groups, -1, cols.shape[2])
            grad_weight = (grad_groups @ cols_groups.swapaxes(2, 3)).sum(0).reshape(
                weight.shape)
        if needs[2]:
            # The planes first, then the batch: a contiguous reduction along rows, which the
            # Numba backend spreads over the cores, then a small one.
            grad_bias = grad.sum((2, 3)).sum(0)
        return grad_x, grad_weight, grad_bias, None, None, None, None
