"""Making tensors: from data, filled, ranges and random draws, on any backend."""

import backends

from .dtypes import as_dtype, float32, int64
from .tensor import Tensor

_PYTHON_DATA = (list, tuple, int, float, bool)


def _backend(backend):
    return backends.current() if backend is None else backends.get(backend)


def _finish(data, backend, requires_grad):
    t = Tensor(data, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _shape(shape):
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def tensor(data, dtype=None, requires_grad=False, backend=None):
    """A new tensor holding a copy of `data` (nested Python data, a NumPy array, a backend
    array or a Tensor). Python floats become float32; arrays keep their dtype."""
    b = _backend(backend)
    dtype = as_dtype(dtype)
    if isinstance(data, Tensor):
        array = data.to(backend=b).data if data.backend is not b else data.data
        array = b.copy(b.astype(array, dtype) if dtype else array)
    elif isinstance(data, _PYTHON_DATA):
        array = b.asarray(data, dtype)
        if dtype is None and b.dtype_name(array) == "float64":
            array = b.astype(array, float32)
    else:
        converted = b.asarray(data, dtype)
        array = b.copy(converted) if converted is data else converted
    return _finish(array, b, requires_grad)


def from_numpy(array, requires_grad=False, backend=None):
    """A tensor over a NumPy array's values and dtype (sharing its memory on the CPU)."""
    b = _backend(backend)
    return _finish(b.from_numpy(array), b, requires_grad)


def zeros(*shape, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    return _finish(b.zeros(_shape(shape), as_dtype(dtype) or float32), b, requires_grad)


def ones(*shape, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    return _finish(b.ones(_shape(shape), as_dtype(dtype) or float32), b, requires_grad)


def full(shape, value, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    if dtype is None:
        dtype = {bool: "bool", int: int64}.get(type(value), float32)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _finish(b.full(shape, value, as_dtype(dtype)), b, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False, backend=None):
    b = t.backend if backend is None else backends.get(backend)
    return _finish(b.zeros(t.shape, as_dtype(dtype) or t.dtype), b, requires_grad)


def ones_like(t, dtype=None, requires_grad=False, backend=None):
    b = t.backend if backend is None else backends.get(backend)
    return _finish(b.ones(t.shape, as_dtype(dtype) or t.dtype), b, requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False, backend=None):
    """Like NumPy's arange; integers give int64, any float gives float32."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = int64 if all(isinstance(v, int) for v in (start, stop, step)) else float32
    b = _backend(backend)
    return _finish(b.arange(start, stop, step, as_dtype(dtype)), b, requires_grad)


def eye(n, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    return _finish(b.eye(n, as_dtype(dtype) or float32), b, requires_grad)


def rand(*shape, dtype=None, requires_grad=False, backend=None):
    """Uniform draws in [0, 1) from the backend's seeded stream."""
    b = _backend(backend)
    return _finish(b.rand(_shape(shape), _float_dtype("rand", dtype)), b, requires_grad)


def randn(*shape, dtype=None, requires_grad=False, backend=None):
    """Standard normal draws from the backend's seeded stream."""
    b = _backend(backend)
    return _finish(b.randn(_shape(shape), _float_dtype("randn", dtype)), b, requires_grad)


def randint(low, high, shape, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _finish(b.randint(low, high, shape, as_dtype(dtype) or int64), b, requires_grad)


def randperm(n, backend=None):
    """A random permutation of range(n) (int64) from the backend's seeded stream."""
    b = _backend(backend)
    return Tensor(b.permutation(int(n)), b)


def manual_seed(seed):
    """Make every backend's random stream (initialisation and dropout included) restart
    from `seed`."""
    backends.manual_seed(seed)


def _float_dtype(op, dtype):
    dtype = as_dtype(dtype) or float32
    if not dtype.is_floating:
        raise TypeError(f"{op}: dtype must be a floating type, got {dtype}")
    return dtype
