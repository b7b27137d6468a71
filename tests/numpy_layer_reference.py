"""Plain NumPy references for the layer ops, written as directly as the definitions read
(explicit loops over output positions), so that they share nothing with the im2col code they
check."""

import math

import numpy as np


def _padded(x, padding, value=0.0):
    (ph, pw) = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _out_size(size, kernel, dilation, padding, stride):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def windows(x, kernel, dilation, padding, stride, value=0.0):
    """{(oy, ox): window of shape (N, C, kh, kw)} for every output position."""
    xp = _padded(x, padding, value)
    oh = _out_size(x.shape[2], kernel[0], dilation[0], padding[0], stride[0])
    ow = _out_size(x.shape[3], kernel[1], dilation[1], padding[1], stride[1])
    found = {}
    for oy in range(oh):
        for ox in range(ow):
            rows = oy * stride[0] + dilation[0] * np.arange(kernel[0])
            cols = ox * stride[1] + dilation[1] * np.arange(kernel[1])
            found[oy, ox] = xp[:, :, rows][:, :, :, cols]
    return found, (oh, ow)


def conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    n, o = x.shape[0], w.shape[0]
    found, (oh, ow) = windows(x, w.shape[2:], dilation, padding, stride)
    out = np.zeros((n, o, oh, ow))
    cg, og = w.shape[1], o // groups
    for (oy, ox), window in found.items():
        for g in range(groups):
            part = window[:, g * cg:(g + 1) * cg]
            out[:, g * og:(g + 1) * og, oy, ox] = np.einsum("nchw,ochw->no", part,
                                                             w[g * og:(g + 1) * og])
    if b is not None:
        out += b[None, :, None, None]
    return out


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return conv2d(x[:, :, None], w[:, :, None], b, (1, stride), (0, padding), (1, dilation),
                  groups)[:, :, 0]


def unfold(x, kernel, dilation=(1, 1), padding=(0, 0), stride=(1, 1)):
    found, (oh, ow) = windows(x, kernel, dilation, padding, stride)
    n = x.shape[0]
    return np.stack([found[oy, ox].reshape(n, -1) for oy in range(oh) for ox in range(ow)],
                    axis=2)


def fold(cols, size, kernel, dilation=(1, 1), padding=(0, 0), stride=(1, 1)):
    n = cols.shape[0]
    c = cols.shape[1] // (kernel[0] * kernel[1])
    out = np.zeros((n, c, size[0] + 2 * padding[0], size[1] + 2 * padding[1]))
    ow = _out_size(size[1], kernel[1], dilation[1], padding[1], stride[1])
    for index in range(cols.shape[2]):
        oy, ox = divmod(index, ow)
        block = cols[:, :, index].reshape(n, c, kernel[0], kernel[1])
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                out[:, :, oy * stride[0] + i * dilation[0],
                    ox * stride[1] + j * dilation[1]] += block[:, :, i, j]
    return out[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]


def max_pool2d(x, kernel, stride, padding=(0, 0), dilation=(1, 1)):
    found, (oh, ow) = windows(x, kernel, dilation, padding, stride, -np.inf)
    out = np.zeros(x.shape[:2] + (oh, ow))
    for (oy, ox), window in found.items():
        out[:, :, oy, ox] = window.max(axis=(2, 3))
    return out


def avg_pool2d(x, kernel, stride, padding=(0, 0), count_include_pad=True):
    found, (oh, ow) = windows(x, kernel, (1, 1), padding, stride)
    ones, _ = windows(np.ones((1, 1) + x.shape[2:]), kernel, (1, 1), padding, stride)
    out = np.zeros(x.shape[:2] + (oh, ow))
    for (oy, ox), window in found.items():
        count = kernel[0] * kernel[1] if count_include_pad else ones[oy, ox].sum()
        out[:, :, oy, ox] = window.sum(axis=(2, 3)) / count
    return out


def adaptive_avg_pool2d(x, size):
    h, w = x.shape[2:]
    out = np.zeros(x.shape[:2] + tuple(size))
    for i in range(size[0]):
        for j in range(size[1]):
            rows = slice(math.floor(i * h / size[0]), math.ceil((i + 1) * h / size[0]))
            cols = slice(math.floor(j * w / size[1]), math.ceil((j + 1) * w / size[1]))
            out[:, :, i, j] = x[:, :, rows, cols].mean(axis=(2, 3))
    return out


def batch_norm(x, weight, bias, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    normal = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    return normal * weight.reshape(shape) + bias.reshape(shape)


def layer_norm(x, axes, weight, bias, eps=1e-5):
    axes = tuple(range(x.ndim - axes, x.ndim))
    normal = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    return normal * weight + bias


_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def silu(x):
    return x / (1 + np.exp(-x))


def softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)
