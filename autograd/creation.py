"""Making tensors: from data, filled, ranges and random draws, on any backend."""

import math
import numbers
import sys

import backends

from .dtypes import as_dtype, float32, int64, names
from .sizes import as_shape, as_size
from .tensor import Tensor

_PYTHON_DATA = (list, tuple, int, float, bool)
# Array dtypes a tensor never holds: the array library accepts them, autograd's ops do not.
_REFUSED_KINDS = ("str", "bytes", "complex", "object", "void", "datetime", "timedelta")


def _backend(backend):
    return backends.current() if backend is None else backends.get(backend)


def _finish(data, backend, requires_grad):
    t = Tensor(data, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad=False, backend=None):
    """A new tensor holding a copy of `data` (nested Python data, a NumPy array, a backend
    array or a Tensor). Python floats become float32; arrays keep their dtype. A list of
    tensors is stacked (values copied, no graph). Strings, complex numbers and Python
    objects are refused with a TypeError naming the dtypes a tensor holds."""
    b = _backend(backend)
    dtype = as_dtype(dtype)
    if isinstance(data, Tensor):
        array = data.to(backend=b).data if data.backend is not b else data.data
        array = b.copy(b.astype(array, dtype) if dtype else array)
    elif isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        array = _stacked(data, dtype, b)
    elif isinstance(data, _PYTHON_DATA):
        array = _converted(data, dtype, b)
        if dtype is None and b.dtype_name(array) == "float64":
            array = b.astype(array, float32)
    else:
        converted = _converted(data, dtype, b)
        array = b.copy(converted) if converted is data else converted
    return _finish(array, b, requires_grad)


def _converted(data, dtype, b):
    """`data` as a backend array of a dtype a tensor can hold."""
    try:
        array = b.asarray(data, dtype)
    except ValueError as error:  # ragged nesting, mostly; NumPy's words say which
        raise ValueError(f"tensor: cannot make an array of the {type(data).__name__} given "
                         f"({error}); nested lists must have equal lengths at each depth, "
                         f"like the rows of a matrix") from None
    return _supported("tensor", array, data, b)


def _supported(op, array, data, b):
    """`array`, unless its dtype is one no tensor holds (TypeError naming those it does)."""
    found = b.dtype_name(array)
    if found.startswith(_REFUSED_KINDS):
        raise TypeError(f"{op}: cannot hold values of dtype {found} (from the "
                        f"{type(data).__name__} given); a tensor holds {', '.join(names())}: "
                        f"convert the data to numbers first")
    return array


def _stacked(items, dtype, b):
    """One array from a list of tensors (and numbers or lists): each converted on its own,
    then stacked along a new first axis, so they must share a shape."""
    arrays = [tensor(item, dtype, backend=b).data for item in items]
    shapes = {tuple(a.shape) for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"tensor: a list of tensors is stacked, so they must share one "
                         f"shape; got shapes {', '.join(map(str, sorted(shapes)))}")
    return b.stack(arrays, 0)


def from_numpy(array, requires_grad=False, backend=None):
    """A tensor over a NumPy array's values and dtype (sharing its memory on the CPU)."""
    b = _backend(backend)
    return _finish(_supported("from_numpy", b.from_numpy(array), array, b), b, requires_grad)


def zeros(*shape, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    shape = as_shape("zeros", shape)
    return _finish(b.zeros(shape, as_dtype(dtype) or float32), b, requires_grad)


def ones(*shape, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    shape = as_shape("ones", shape)
    return _finish(b.ones(shape, as_dtype(dtype) or float32), b, requires_grad)


def full(shape, value, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    if dtype is None:
        dtype = {bool: "bool", int: int64}.get(type(value), float32)
    shape = as_shape("full", (shape,))
    return _finish(b.full(shape, value, as_dtype(dtype)), b, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False, backend=None):
    b = t.backend if backend is None else backends.get(backend)
    return _finish(b.zeros(t.shape, as_dtype(dtype) or t.dtype), b, requires_grad)


def ones_like(t, dtype=None, requires_grad=False, backend=None):
    b = t.backend if backend is None else backends.get(backend)
    return _finish(b.ones(t.shape, as_dtype(dtype) or t.dtype), b, requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False, backend=None):
    """Like NumPy's arange; integers give int64, any float gives float32. A zero step, a
    bound that is not a finite number, or more elements than an array can index raise a
    ValueError (TypeError for what is not a number) saying which."""
    if stop is None:
        start, stop = 0, start
    _check_range(start, stop, step)
    if dtype is None:
        dtype = int64 if all(isinstance(v, int) for v in (start, stop, step)) else float32
    b = _backend(backend)
    return _finish(b.arange(start, stop, step, as_dtype(dtype)), b, requires_grad)


def eye(n, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    n = as_size("eye", "n", n)
    return _finish(b.eye(n, as_dtype(dtype) or float32), b, requires_grad)


def rand(*shape, dtype=None, requires_grad=False, backend=None):
    """Uniform draws in [0, 1) from the backend's seeded stream."""
    b = _backend(backend)
    shape = as_shape("rand", shape)
    return _finish(b.rand(shape, _float_dtype("rand", dtype)), b, requires_grad)


def randn(*shape, dtype=None, requires_grad=False, backend=None):
    """Standard normal draws from the backend's seeded stream."""
    b = _backend(backend)
    shape = as_shape("randn", shape)
    return _finish(b.randn(shape, _float_dtype("randn", dtype)), b, requires_grad)


def randint(low, high, shape, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    shape = as_shape("randint", (shape,))
    return _finish(b.randint(low, high, shape, as_dtype(dtype) or int64), b, requires_grad)


def randperm(n, backend=None):
    """A random permutation of range(n) (int64) from the backend's seeded stream."""
    b = _backend(backend)
    return Tensor(b.permutation(as_size("randperm", "n", n)), b)


def manual_seed(seed):
    """Make every backend's random stream (initialisation and dropout included) restart
    from `seed`."""
    backends.manual_seed(seed)


def _check_range(start, stop, step):
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"arange: {name} must be a real number, got {value!r} "
                            f"({type(value).__name__})")
        if not math.isfinite(value):
            raise ValueError(f"arange: {name} must be a finite number, got {value}")
    if step == 0:
        raise ValueError(f"arange({start}, {stop}, {step}): the step must not be zero; give "
                         f"a positive step to count up or a negative one to count down")
    if (stop - start) / step > sys.maxsize:
        raise ValueError(f"arange({start}, {stop}, {step}) would have about "
                         f"{(stop - start) / step:.3g} elements, more than an array can "
                         f"hold; use a larger step or a shorter range")


def _float_dtype(op, dtype):
    dtype = as_dtype(dtype) or float32
    if not dtype.is_floating:
        raise TypeError(f"{op}: dtype must be a floating type, got {dtype}")
    return dtype
