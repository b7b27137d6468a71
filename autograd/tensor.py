"""`Tensor`: a backend array plus what the graph needs to know about it.

It uses `__slots__`, and its operators go straight to `Function.apply`: on small tensors the
cost of an op is mostly Python object overhead.
"""

from . import grad_mode
from .dtypes import DType, as_dtype

_SCALARS = (int, float, bool)
_DTYPE_BY_NATIVE = {}

# Counts in-place changes across all tensors. A tensor's `_version` is the count at its last
# in-place change, so "changed since a node saved it" is one comparison with the count then.
version_clock = 0


def bump_version(tensor):
    """Record an in-place change of `tensor`."""
    global version_clock
    version_clock += 1
    tensor._version = version_clock


class Tensor:
    __slots__ = ("data", "backend", "requires_grad", "grad", "grad_fn", "_output_index",
                 "_version", "_hooks", "__weakref__")

    # NumPy defers to our reflected operators (`array @ t` calls `t.__rmatmul__`).
    __array_ufunc__ = None

    def __init__(self, data, backend, requires_grad=False, grad_fn=None, output_index=0):
        self.data = data
        self.backend = backend
        self.requires_grad = requires_grad
        self.grad = None
        self.grad_fn = grad_fn
        self._output_index = output_index
        self._version = 0
        self._hooks = None

    # ---------------------------------------------------------------- attributes
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        n = 1
        for d in self.data.shape:
            n *= d
        return n

    @property
    def dtype(self):
        native = self.data.dtype
        dtype = _DTYPE_BY_NATIVE.get(native)
        if dtype is None:
            dtype = _DTYPE_BY_NATIVE[native] = DType(self.backend.dtype_name(self.data))
        return dtype

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def T(self):
        return self.transpose()

    # ---------------------------------------------------------------- conversion
    def numpy(self):
        """A host NumPy array (copied from the device for a GPU backend)."""
        if _function._tracer is not None:
            _function._tracer.read_value(self, "numpy()")
        return self.backend.to_numpy(self.data)

    def item(self):
        if self.size != 1:
            raise ValueError(f"item: the tensor has {self.size} elements (shape "
                             f"{tuple(self.shape)}); only a one-element tensor converts to a "
                             f"Python number")
        if _function._tracer is not None:
            _function._tracer.read_value(self, "item(), float(), int() or bool()")
        return self.backend.item(self.data)

    def tolist(self):
        if _function._tracer is not None:
            _function._tracer.read_value(self, "tolist()")
        return self.backend.tolist(self.data)

    def to(self, target=None, *, backend=None, dtype=None):
        """A new tensor on another backend and/or of another dtype; differentiable.
        `target` is a backend name (or Backend) or a dtype."""
        if target is not None:
            try:
                dtype_target = as_dtype(target) if not hasattr(target, "seed") else None
            except TypeError:
                dtype_target = None
            if dtype_target is not None:
                dtype = dtype if dtype is not None else dtype_target
            else:
                backend = backend if backend is not None else target
        out = self
        if backend is not None:
            import backends

            target_backend = backends.get(backend)
            if target_backend is not self.backend:
                out = ToBackend.apply(out, target_backend)
        if dtype is not None:
            out = out.astype(dtype)
        return out

    def astype(self, dtype):
        dtype = as_dtype(dtype)
        if dtype == self.dtype:
            return self
        if self.requires_grad and not dtype.is_floating:
            return primitive_op(self.backend, "astype", self, dtype)
        return AsType.apply(self, dtype)

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor(self.data, self.backend)

    def clone(self):
        """A copy of the data that stays connected to the graph."""
        return self + 0

    def requires_grad_(self, flag=True):
        if not self.is_leaf and not flag:
            raise RuntimeError("requires_grad_(False): only a leaf tensor can stop requiring "
                               "grad; use .detach() on a computed tensor")
        if flag and not self.dtype.is_floating:
            raise TypeError(f"requires_grad_: only floating-point tensors can require grad, "
                            f"this one is {self.dtype}; convert it with .astype('float32')")
        self.requires_grad = bool(flag)
        return self

    def __reduce__(self):
        """Pickling and deep copies keep the values, dtype, backend and requires_grad (as a
        leaf, like `detach()`): the graph is not part of a tensor's value."""
        return _rebuild, (type(self), self.backend.name, self.numpy(), self.requires_grad)

    # ---------------------------------------------------------------- gradients
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`. `create_graph=True` records
        the backward pass (and keeps the graph), so the gradients can be differentiated."""
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no "
                               "grad_fn; create the inputs with requires_grad=True (and not "
                               "inside no_grad())")
        grad = _output_grad("backward", self, grad)
        run_backward([self], [grad], retain_graph or create_graph, create_graph)

    def register_hook(self, fn):
        """Call `fn(grad)` when this tensor's gradient is computed; a non-None return value
        replaces the gradient. Returns a handle whose `remove()` takes the hook away."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad, so no "
                               "gradient will ever reach the hook")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._hooks is None:
                node._hooks = {}
            hooks = node._hooks.setdefault(self._output_index, {})
        return _HookHandle(hooks, fn)

    # ---------------------------------------------------------------- arithmetic operators
    def __add__(self, other):
        return Add.apply(self, _operand(self, other))

    def __radd__(self, other):
        return Add.apply(_operand(self, other), self)

    def __sub__(self, other):
        return Sub.apply(self, _operand(self, other))

    def __rsub__(self, other):
        return Sub.apply(_operand(self, other), self)

    def __mul__(self, other):
        return Mul.apply(self, _operand(self, other))

    def __rmul__(self, other):
        return Mul.apply(_operand(self, other), self)

    def __truediv__(self, other):
        return Div.apply(self, _operand(self, other))

    def __rtruediv__(self, other):
        return Div.apply(_operand(self, other), self)

    def __pow__(self, other):
        return Pow.apply(self, _operand(self, other))

    def __rpow__(self, other):
        return Pow.apply(_operand(self, other), self)

    def __matmul__(self, other):
        return matmul(self, _as_tensor(self, other))

    def __rmatmul__(self, other):
        return matmul(_as_tensor(self, other), self)

    def __neg__(self):
        return Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return Abs.apply(self)

    # ---------------------------------------------------------------- comparisons
    def _compare(self, other, name):
        return primitive_op(self.backend, name, self, _operand(self, other))

    def __lt__(self, other):
        return self._compare(other, "lt")

    def __le__(self, other):
        return self._compare(other, "le")

    def __gt__(self, other):
        return self._compare(other, "gt")

    def __ge__(self, other):
        return self._compare(other, "ge")

    def __eq__(self, other):
        return self._compare(other, "eq")

    def __ne__(self, other):
        return self._compare(other, "ne")

    __hash__ = object.__hash__

    # ---------------------------------------------------------------- in place
    def _in_place(self, op, other, combine):
        if self.requires_grad and grad_mode._state.enabled:
            raise RuntimeError(
                f"{op}: in-place change of a tensor that requires grad (shape "
                f"{tuple(self.shape)}); it would corrupt the graph. Write x = x {op[0]} y, or "
                f"do the update inside `with autograd.no_grad():`")
        other = _operand(self, other)
        data = other.data if isinstance(other, Tensor) else other
        result = combine(self.data, data)
        if result.shape != self.shape:
            raise ValueError(f"{op}: the result has shape {tuple(result.shape)}, not the "
                             f"tensor's shape {tuple(self.shape)}; in-place ops cannot grow a "
                             f"tensor")
        self.backend.copy_into(self.data, result)
        bump_version(self)
        return self

    def __iadd__(self, other):
        return self._in_place("+=", other, self.backend.add)

    def __isub__(self, other):
        return self._in_place("-=", other, self.backend.sub)

    def __imul__(self, other):
        return self._in_place("*=", other, self.backend.mul)

    def __itruediv__(self, other):
        return self._in_place("/=", other, self.backend.div)

    # ---------------------------------------------------------------- containers
    def __getitem__(self, index):
        return getitem(self, index)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self.shape[0]):
            yield self[i]

    def __bool__(self):
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {tuple(self.shape)} is "
                             f"ambiguous; use .any() or .all() style reductions instead")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating or self.size != 1:
            raise TypeError("only a one-element integer tensor can be used as an index")
        return int(self.item())

    def __repr__(self):
        body = repr(self.backend.to_numpy(self.data))
        body = body[body.index("(") + 1: body.rindex(")")]
        body = body.split(", dtype=")[0].replace("\n      ", "\n       ")
        extras = []
        if self.dtype not in ("float32", "int64", "bool"):
            extras.append(f"dtype={self.dtype}")
        if self.backend.name != "numpy":
            extras.append(f"backend={self.backend.name!r}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ---------------------------------------------------------------- elementwise math
    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def log1p(self):
        return Log1p.apply(self)

    def sqrt(self):
        return Sqrt.apply(self)

    def sin(self):
        return Sin.apply(self)

    def cos(self):
        return Cos.apply(self)

    def tanh(self):
        return Tanh.apply(self)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def relu(self):
        return Relu.apply(self)

    def abs(self):
        return Abs.apply(self)

    def erf(self):
        return Erf.apply(self)

    def sign(self):
        return primitive_op(self.backend, "sign", self)

    def clip(self, min=None, max=None):
        return Clip.apply(self, _bound(self, min), _bound(self, max))

    # ---------------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims=False):
        return reduce_sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return reduce_mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return reduce_max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return reduce_min(self, axis, keepdims)

    def var(self, axis=None, ddof=0, keepdims=False):
        return var(self, axis, ddof, keepdims)

    def std(self, axis=None, ddof=0, keepdims=False):
        return std(self, axis, ddof, keepdims)

    def argmax(self, axis=None):
        return argmax(self, axis)

    def argmin(self, axis=None):
        return argmin(self, axis)

    def logsumexp(self, axis=None, keepdims=False):
        return logsumexp(self, axis, keepdims)

    def softmax(self, axis=-1):
        return softmax(self, axis)

    def log_softmax(self, axis=-1):
        return log_softmax(self, axis)

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape):
        shape = _shape_arg(shape)
        if shape == self.shape:
            return self
        return Reshape.apply(self, shape)

    def transpose(self, *axes):
        axes = _shape_arg(axes) if axes else tuple(reversed(range(self.ndim)))
        if sorted(a % self.ndim for a in axes) != list(range(self.ndim)) or len(axes) != self.ndim:
            raise ValueError(f"transpose: axes {axes} are not a permutation of the "
                             f"{self.ndim} axes of a tensor of shape {tuple(self.shape)}")
        return Transpose.apply(self, tuple(a % self.ndim for a in axes))

    def swapaxes(self, axis1, axis2):
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return Transpose.apply(self, tuple(axes))

    def squeeze(self, axis=None):
        if axis is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            axes = normalize_axes("squeeze", axis, self.ndim)
            for a in axes:
                if self.shape[a] != 1:
                    raise ValueError(f"squeeze: axis {a} has size {self.shape[a]}, not 1, in "
                                     f"shape {tuple(self.shape)}")
            shape = tuple(n for i, n in enumerate(self.shape) if i not in axes)
        return self.reshape(shape)

    def unsqueeze(self, axis):
        ndim = self.ndim + 1
        if not -ndim <= axis < ndim:
            raise ValueError(f"unsqueeze: axis {axis} is out of range for a result of {ndim} "
                             f"dimensions")
        shape = list(self.shape)
        shape.insert(axis % ndim, 1)
        return self.reshape(tuple(shape))

    def flatten(self, start_axis=0):
        if self.ndim == 0:
            return self.reshape(1)
        start = start_axis % self.ndim
        return self.reshape(self.shape[:start] + (-1,))

    def broadcast_to(self, *shape):
        shape = _shape_arg(shape)
        if shape == self.shape:
            return self
        return BroadcastTo.apply(self, shape)


def _rebuild(cls, backend_name, array, requires_grad):
    import backends

    backend = backends.get(backend_name)
    tensor = cls.__new__(cls)
    Tensor.__init__(tensor, backend.from_numpy(array.copy()), backend, requires_grad)
    return tensor


class _HookHandle:
    _next_id = 0

    def __init__(self, hooks, fn):
        _HookHandle._next_id += 1
        self.id = _HookHandle._next_id
        self.hooks = hooks
        hooks[self.id] = fn

    def remove(self):
        self.hooks.pop(self.id, None)


def _shape_arg(shape):
    """(2, 3) from reshape(2, 3) and from reshape((2, 3))."""
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _operand(tensor, other):
    """`other` as an operand next to `tensor`: Tensors and Python scalars as they are, other
    values as a backend array (the backend refuses what it must not take implicitly)."""
    if isinstance(other, Tensor) or type(other) in _SCALARS:
        return other
    return tensor.backend.operand(other)


def _as_tensor(tensor, other):
    other = _operand(tensor, other)
    if isinstance(other, Tensor):
        return other
    return Tensor(tensor.backend.asarray(other), tensor.backend)


def _bound(tensor, value):
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, Tensor):
        return value.data
    return tensor.backend.operand(value)


def _output_grad(op, output, grad):
    """The gradient to start backward from: ones for a one-element output, else checked."""
    if grad is None:
        if output.size != 1:
            raise RuntimeError(
                f"{op}: the output has shape {tuple(output.shape)}, so a gradient must be "
                f"given; pass one of that shape (e.g. {op}(ones_like(y))) or reduce the "
                f"output to a scalar first (y.sum())")
        return Tensor(output.backend.ones(output.shape, output.dtype), output.backend)
    if not isinstance(grad, Tensor):
        grad = Tensor(output.backend.asarray(grad, output.dtype), output.backend)
    if grad.backend is not output.backend:
        raise TypeError(f"{op}: the gradient is on backend {grad.backend.name!r} but the "
                        f"output on {output.backend.name!r}; move it with "
                        f".to({output.backend.name!r})")
    if grad.shape != output.shape:
        raise ValueError(f"{op}: the gradient has shape {tuple(grad.shape)} but the output "
                         f"has shape {tuple(output.shape)}; they must match")
    return grad


from . import function as _function  # noqa: E402  (its tracer watches values read out)
from .engine import run_backward  # noqa: E402  (the ops import Tensor from this module)
from .function import primitive_op  # noqa: E402
from .ops.composite import log_softmax, logsumexp, softmax  # noqa: E402
from .ops.elementwise import (  # noqa: E402
    Abs, Add, AsType, Clip, Cos, Div, Erf, Exp, Log, Log1p, Mul, Neg, Pow, Relu, Sigmoid,
    Sin, Sqrt, Sub, Tanh)
from .ops.index import getitem  # noqa: E402
from .ops.linalg import matmul  # noqa: E402
from .ops.reduce import (  # noqa: E402
    argmax, argmin, normalize_axes, reduce_max, reduce_mean, reduce_min, reduce_sum, std, var)
from .ops.shape import BroadcastTo, Reshape, ToBackend, Transpose  # noqa: E402
