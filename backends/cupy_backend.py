"""The CuPy backend: the shared array-namespace code with `xp = cupy`, on a CUDA GPU.

Only what CuPy does differently lives here: its random generator, host transfers, the refusal
to move NumPy arrays to the GPU implicitly, scatter-add, erf, and the fused kernels (written as
`cupy.ElementwiseKernel`s, each one pass over device memory). Everything else is the
array-namespace code that the NumPy backend runs on every CPU test.

CuPy is imported when the backend is first asked for, not with this module, so a machine
without it (or without a GPU) gets a `BackendUnavailable` that says why.
"""

import importlib

import numpy

from . import formulas
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
    # Each is a `cupy.ElementwiseKernel` made from its formula in `backends.formulas`, one pass
    # over device memory; CuPy compiles each on first use and caches it on disk.
    def sigmoid(self, a):
        return self._kernels.elementwise(formulas.sigmoid)(a)

    def relu_backward(self, grad, y):
        return self._kernels.elementwise(formulas.relu_backward)(grad, y)

    def tanh_backward(self, grad, y):
        return self._kernels.elementwise(formulas.tanh_backward)(grad, y)

    def sigmoid_backward(self, grad, y):
        return self._kernels.elementwise(formulas.sigmoid_backward)(grad, y)

    def _update(self, formula, values):
        """Run the update `formula` in place on the device, in one kernel."""
        for name in formulas.UPDATES[formula]:
            if values[name] is None:  # a state the formula does not read: scratch space
                values[name] = self.xp.zeros_like(values["param"])
        self._kernels.update(formula)(*formulas.arguments(formula, values))


class _FusedKernels:
    """The kernels made from the formulas, each made once, when first used."""

    def __init__(self, cupy):
        self._cupy = cupy
        self._made = {}

    def elementwise(self, formula):
        kernel = self._made.get(formula)
        if kernel is None:
            names = list(formulas.parameters(formula))
            kernel = self._made[formula] = self._cupy.ElementwiseKernel(
                ", ".join(f"T {n}" for n in names), "T out",
                formulas.cuda_source(formula, ["out"]), f"pluggrad_{formula.__name__}")
        return kernel

    def update(self, formula):
        """A kernel taking the formula's arguments in its order: the arrays it updates are
        the kernel's outputs, read and written in place."""
        kernel = self._made.get(formula)
        if kernel is None:
            updated = formulas.UPDATES[formula]
            names = list(formulas.parameters(formula))
            inputs = [f"{'bool' if n in formulas.FLAGS else 'T'} {n}" for n in names
                      if n not in updated]
            made = self._cupy.ElementwiseKernel(
                ", ".join(inputs), ", ".join(f"T {n}" for n in updated),
                formulas.cuda_source(formula, updated), f"pluggrad_{formula.__name__}")
            order = [n for n in names if n not in updated] + list(updated)
            position = [order.index(n) for n in names]

            def kernel(*arguments):
                ordered = [None] * len(arguments)
                for value, index in zip(arguments, position):
                    ordered[index] = value
                made(*ordered)

            self._made[formula] = kernel
        return kernel
