"""The CuPy backend: the shared array-namespace code with `xp = cupy`, on a CUDA GPU.

Only what CuPy does differently lives here: its random generator, host transfers, the refusal
to move NumPy arrays to the GPU implicitly, scatter-add, erf, and the fused kernels (written as
`cupy.ElementwiseKernel`s, each one pass over device memory). Everything else is the
array-namespace code that the NumPy backend runs on every CPU test.

CuPy is imported when the backend is first asked for, not with this module, so a machine
without it (or without a GPU) gets a `BackendUnavailable` that says why.
"""

import importlib
import math

import numpy

from .array_namespace import ArrayNamespaceBackend
from .base import BackendUnavailable

INSTALL_HINT = "pip install 'pluggrad[cuda]'"


def load_cupy():
    """The cupy module, once it is known to reach a CUDA device; otherwise
    BackendUnavailable, saying what is missing."""
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as error:
        if isinstance(error, ModuleNotFoundError) and error.name == "cupy":
            raise BackendUnavailable(f"cupy is not installed: {INSTALL_HINT}") from error
        raise BackendUnavailable(
            f"cupy is installed but cannot be imported: {error}") from error
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except RuntimeError as error:  # CUDARuntimeError / CUDADriverError carry the reason
        raise BackendUnavailable(f"cupy cannot reach a CUDA device: {error}") from error
    if count == 0:
        raise BackendUnavailable("no CUDA device found")
    return cupy


class CupyBackend(ArrayNamespaceBackend):
    def __init__(self, name="cupy"):
        cupy = load_cupy()
        self._cupyx = importlib.import_module("cupyx")
        importlib.import_module("cupyx.scipy.special")
        device = cupy.cuda.Device()
        gpu = cupy.cuda.runtime.getDeviceProperties(device.id)["name"]
        gpu = gpu.decode() if isinstance(gpu, bytes) else gpu
        super().__init__(cupy, name=name, device=f"cuda:{device.id} ({gpu})")
        self._kernels = _FusedKernels(cupy)

    # ---------------------------------------------------------------- creation and transfer
    def operand(self, value):
        if isinstance(value, numpy.ndarray):
            raise TypeError(
                f"a NumPy array (shape {value.shape}, {value.dtype}) cannot be combined with "
                f"tensors on the {self.name!r} backend: a NumPy array never moves to the GPU "
                f"implicitly. Make it a tensor first: ag.tensor(array, backend={self.name!r})")
        return self.xp.asarray(value)

    def to_numpy(self, a):
        return self.xp.asnumpy(a)

    def from_numpy(self, array):
        return self.xp.asarray(array)

    # ---------------------------------------------------------------- random draws
    def permutation(self, n):
        # CuPy's Generator has no permutation: sorting uniform keys gives one.
        return self.xp.argsort(self._rng.random(n)).astype("int64", copy=False)

    # ---------------------------------------------------------------- what CuPy spells apart
    def erf(self, a):
        return self._cupyx.scipy.special.erf(a)

    def index_add(self, shape, index, values, dtype):
        out = self.xp.zeros(shape, dtype=dtype)
        self._cupyx.scatter_add(out, index, values)
        return out

    def _linalg_checks(self):
        # CuPy leaves a singular matrix's result full of nan unless told to check.
        return self._cupyx.errstate(linalg="raise")

    def synchronize(self):
        self.xp.cuda.get_current_stream().synchronize()

    # ---------------------------------------------------------------- fused kernels
    def sigmoid(self, a):
        return self._kernels.sigmoid(a)

    def relu_backward(self, grad, y):
        return self._kernels.relu_backward(grad, y)

    def tanh_backward(self, grad, y):
        return self._kernels.tanh_backward(grad, y)

    def sigmoid_backward(self, grad, y):
        return self._kernels.sigmoid_backward(grad, y)

    def sgd_step_(self, param, grad, buf, lr, momentum, dampening, nesterov, weight_decay,
                  first_step):
        if not momentum:
            self._kernels.sgd(grad, -lr, weight_decay, param)
            return
        self._kernels.sgd_momentum(grad, -lr, momentum, 1 - dampening, weight_decay,
                                   bool(nesterov), bool(first_step), param, buf)

    def adam_step_(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1,
                   beta2, eps, weight_decay, amsgrad, decoupled_weight_decay):
        decoupled = bool(weight_decay) and decoupled_weight_decay
        constants = (beta1, 1 - beta1, beta2, 1 - beta2, eps,
                     0 if decoupled else weight_decay,
                     1 - lr * weight_decay if decoupled else 1,
                     math.sqrt(1 - beta2 ** step), -lr / (1 - beta1 ** step))
        if amsgrad:
            self._kernels.amsgrad(grad, *constants, param, exp_avg, exp_avg_sq,
                                  max_exp_avg_sq)
        else:
            self._kernels.adam(grad, *constants, param, exp_avg, exp_avg_sq)


# The update kernels read and write their output arguments in place; the hyperparameters
# arrive combined as the base Backend's composed update combines them.
_ADAM_PARAMS = ("T grad, T beta1, T keep1, T beta2, T keep2, T eps, T weight_decay, "
                "T decay, T sqrt_bias2, T step_size")
_ADAM_MOMENTS = """
    T g = grad;
    T p = param * decay;
    if (weight_decay != (T)0) g = g + p * weight_decay;
    exp_avg = exp_avg * beta1 + g * keep1;
    exp_avg_sq = exp_avg_sq * beta2 + g * g * keep2;
"""


class _FusedKernels:
    """The backend's `cupy.ElementwiseKernel`s; CuPy compiles each on first use and caches it
    on disk."""

    def __init__(self, cupy):
        kernel = cupy.ElementwiseKernel
        self.sigmoid = kernel(
            "T x", "T y",
            "T e = exp(-fabs(x)); y = (x >= (T)0 ? (T)1 : e) / ((T)1 + e)",
            "pluggrad_sigmoid")
        self.relu_backward = kernel(
            "T grad, T y", "T out", "out = grad * (y > (T)0 ? (T)1 : (T)0)",
            "pluggrad_relu_backward")
        self.tanh_backward = kernel(
            "T grad, T y", "T out", "out = grad * ((T)1 - y * y)", "pluggrad_tanh_backward")
        self.sigmoid_backward = kernel(
            "T grad, T y", "T out", "out = grad * (y * ((T)1 - y))",
            "pluggrad_sigmoid_backward")
        self.sgd = kernel(
            "T grad, T neg_lr, T weight_decay", "T param",
            "T g = grad; if (weight_decay != (T)0) g = g + param * weight_decay;"
            "param = param + g * neg_lr",
            "pluggrad_sgd")
        self.sgd_momentum = kernel(
            "T grad, T neg_lr, T momentum, T keep, T weight_decay, bool nesterov, "
            "bool first_step", "T param, T buf",
            """
            T g = grad;
            if (weight_decay != (T)0) g = g + param * weight_decay;
            buf = first_step ? g : buf * momentum + g * keep;
            g = nesterov ? g + buf * momentum : buf;
            param = param + g * neg_lr;
            """,
            "pluggrad_sgd_momentum")
        self.adam = kernel(
            _ADAM_PARAMS, "T param, T exp_avg, T exp_avg_sq",
            _ADAM_MOMENTS + "param = p + exp_avg / (sqrt(exp_avg_sq) / sqrt_bias2 + eps) "
                            "* step_size;",
            "pluggrad_adam")
        self.amsgrad = kernel(
            _ADAM_PARAMS, "T param, T exp_avg, T exp_avg_sq, T max_exp_avg_sq",
            _ADAM_MOMENTS + """
            if (!(max_exp_avg_sq >= exp_avg_sq || max_exp_avg_sq != max_exp_avg_sq))
                max_exp_avg_sq = exp_avg_sq;
            param = p + exp_avg / (sqrt(max_exp_avg_sq) / sqrt_bias2 + eps) * step_size;
            """,
            "pluggrad_amsgrad")
