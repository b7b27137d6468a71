"""Max pooling: the largest entry of every window, found among the window's columns."""

import math

from backends.base import window_count

from ..op import Op
from .conv import Fold


class MaxPool2d(Op):
    """(N, C, H, W) -> (N, C, OH, OW), each output the maximum of one window; padding counts
    as -inf, so it is never picked.

    The gradient goes to the first maximum of each window, as in PyTorch: forward keeps a
    one-hot mask of the picked entries, and backward folds the output gradient, spread over
    that mask, back into the image. Backward is linear in the gradient with a constant mask,
    so it is differentiable again (the second derivative in x is zero)."""

    @staticmethod
    def forward(ctx, x, kernel_size, dilation, padding, stride):
        backend = ctx.backend
        n, c, h, w = x.shape
        (ph, pw), window = padding, kernel_size[0] * kernel_size[1]
        planes = backend.reshape(x, (n * c, 1, h, w))
        if ph or pw:
            planes = backend.pad(planes, ((0, 0), (0, 0), (ph, ph), (pw, pw)), -math.inf)
        cols = backend.im2col(planes, kernel_size, dilation, (0, 0), stride)
        picked = backend.expand_dims(backend.argmax(cols, 1), 1)
        positions = backend.reshape(backend.arange(0, window, 1, "int64"), (1, window, 1))
        ctx.save_for_backward(backend.astype(backend.eq(picked, positions),
                                             backend.dtype_name(x)))
        ctx.image_size = (h, w)
        ctx.geometry = (kernel_size, dilation, padding, stride)
        out = backend.max(cols, 1)
        out_h = window_count(h, kernel_size[0], dilation[0], ph, stride[0])
        return backend.reshape(out, (n, c, out_h, -1))

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        n, c = grad.shape[0], grad.shape[1]
        spread = mask * grad.reshape(n * c, 1, -1)
        image = Fold.apply(spread, ctx.image_size, *ctx.geometry)
        return image.reshape(grad.shape[:2] + ctx.image_size), None, None, None, None
