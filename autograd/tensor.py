"""`Tensor`: a backend array plus what the graph needs to know about it.

It uses `__slots__`, and its operators go straight to `Function.apply`: on small tensors the
cost of an op is mostly Python object overhead.
"""

import weakref

from . import grad_mode
from .dtypes import DType, as_dtype
from .torch_names import _ELEMENT_COUNTS, Device, element_count

_SCALARS = frozenset((int, float, bool))  # `type(x) in _SCALARS`: one hash lookup
_DTYPE_BY_NATIVE = {}

# Counts in-place changes across all tensors. A tensor's `_version` is the count at its last
# in-place change, so "changed since a node saved it" is one comparison with the count then.
version_clock = 0

# The leaves that have (or had) a post-accumulate-grad hook. Backward looks for such leaves
# in its graph only while this is not empty, so a program without one pays nothing for them.
post_accumulate_hooked = weakref.WeakSet()


_new_object = object.__new__


def new_tensor(data, backend, requires_grad=False, grad_fn=None, output_index=0):
    """`Tensor(...)` for the ops' hot path: the same slots, set without the cost of calling
    a class (a third of a small op's overhead otherwise goes to making its result)."""
    t = _new_object(Tensor)
    t.data = data
    t.backend = backend
    t.requires_grad = requires_grad
    t.grad = None
    t.grad_fn = grad_fn
    t._output_index = output_index
    t._version = 0
    t._hooks = None
    return t


def bump_version(tensor):
    """Record an in-place change of `tensor`."""
    global version_clock
    version_clock += 1
    tensor._version = version_clock


class Tensor:
    __slots__ = ("data", "backend", "requires_grad", "grad", "grad_fn", "_output_index",
                 "_version", "_hooks", "_post_accumulate_hooks", "__weakref__")

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
        count = _ELEMENT_COUNTS.get(self.data.shape)
        return count if count is not None else element_count(self.data.shape)

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
        if _graph.observers:
            _graph.read_value(self, "numpy()")
        return self.backend.to_numpy(self.data)

    def item(self):
        if self.size != 1:
            raise ValueError(f"item: the tensor has {self.size} elements (shape "
                             f"{tuple(self.shape)}); only a one-element tensor converts to a "
                             f"Python number")
        if _graph.observers:
            _graph.read_value(self, "item(), float(), int() or bool()")
        return self.backend.item(self.data)

    def tolist(self):
        if _graph.observers:
            _graph.read_value(self, "tolist()")
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
                node._plain = False
            hooks = node._hooks.setdefault(self._output_index, {})
        return HookHandle(hooks, fn)

    def register_post_accumulate_grad_hook(self, fn):
        """Call `fn(self)` during backward as soon as this leaf's `.grad` holds all of this
        pass's gradient, while the rest of the graph is still running (a data-parallel
        wrapper sends the gradient on from here). Returns a handle whose `remove()` takes
        the hook away.

        The slot holding these hooks is left unset until the first one, so that making a
        tensor costs nothing more for them."""
        if not self.requires_grad or self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: only a leaf tensor that "
                               "requires grad accumulates a .grad; register the hook on a "
                               "parameter (or use register_hook on a computed tensor)")
        try:
            hooks = self._post_accumulate_hooks
        except AttributeError:
            hooks = self._post_accumulate_hooks = {}
        post_accumulate_hooked.add(self)
        return HookHandle(hooks, fn)

    # The arithmetic operators, and every method of the op table (the math, reductions
    # and shape methods), are installed by `autograd.ops` from the table: `t * u` calls the
    # `apply` of `ops.elementwise.Mul` directly.
    def __pos__(self):
        return self

    # ---------------------------------------------------------------- comparisons
    def _compare(self, other, name):
        return primitive_op(self.backend, name, self, operand(self, other))

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
        if isinstance(other, Tensor):
            if other.backend is not self.backend:
                raise TypeError(
                    f"{op}: tensors are on different backends, {self.backend.name!r} and "
                    f"{other.backend.name!r}. Move one with .to({self.backend.name!r}) first.")
            data = other.data
        elif type(other) in _SCALARS:
            data = other
        else:
            data = self.backend.operand(other)
        result = combine(self.data, data)
        _check_lossless(op, self, result)
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
    # `t[index]` is the op table's GetItem (installed with the operators).
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

    # ---------------------------------------------------------------- PyTorch spellings
    # What a PyTorch user types first, mapped onto the NumPy-style API above (the README's
    # table "Coming from PyTorch" lists them). `size` stays the element count (see
    # ElementCount), and the reductions take `dim=`/`keepdim=` (see torch_axis).
    def numel(self):
        """The number of elements, as `torch.Tensor.numel()`; the same as `size`."""
        return int(self.size)

    def dim(self):
        """The number of axes, as `torch.Tensor.dim()`; the same as `ndim`."""
        return self.ndim

    def view(self, *shape):
        """`reshape` under PyTorch's name (pluggrad does not track contiguity: no copy is
        made where the backend's reshape makes none)."""
        return self.reshape(*shape)

    def float(self):
        return self.astype("float32")

    def double(self):
        return self.astype("float64")

    def half(self):
        return self.astype("float16")

    def long(self):
        return self.astype("int64")

    def int(self):
        return self.astype("int32")

    def bool(self):
        return self.astype("bool")

    @property
    def device(self):
        """The backend's name, which `.to(...)` and the creation functions' `backend=` take
        (`x.to(y.device)`); `.device.type` is "cpu" or "cuda" as in PyTorch."""
        return Device(self.backend)

    def cpu(self):
        """The tensor with its data in host memory: itself on a CPU backend, else moved to
        the NumPy backend (differentiable, like `.to("numpy")`)."""
        if Device(self.backend).type == "cpu":
            return self
        return self.to("numpy")

    def cuda(self):
        """The tensor on the CuPy backend, like `.to("cupy")`."""
        return self.to("cupy")


def _rebuild(cls, backend_name, array, requires_grad):
    import backends

    backend = backends.get(backend_name)
    tensor = cls.__new__(cls)
    Tensor.__init__(tensor, backend.from_numpy(array.copy()), backend, requires_grad)
    return tensor


class HookHandle:
    """What registering a hook returns (a tensor's, or a module's forward hook): `remove()`
    takes the hook away. `hooks` is the dict the hook was added to, by a unique id."""

    _next_id = 0

    def __init__(self, hooks, fn):
        HookHandle._next_id += 1
        self.id = HookHandle._next_id
        self.hooks = hooks
        hooks[self.id] = fn

    def remove(self):
        self.hooks.pop(self.id, None)


_KIND_RANK = {"bool": 0, "int": 1, "uint": 1, "float": 2}


def _check_lossless(op, tensor, result):
    """Refuse to store an in-place result of a higher kind (float into int, int into bool)
    than the tensor holds: the cast would drop information, and NumPy refuses it too."""
    found = tensor.backend.dtype_name(result)
    kind = found.rstrip("0123456789")
    if _KIND_RANK.get(kind, 0) > _KIND_RANK.get(tensor.dtype.rstrip("0123456789"), 0):
        raise TypeError(
            f"{op}: the result is {found}, which this {tensor.dtype} tensor cannot hold "
            f"without losing information (NumPy refuses this cast too). Write "
            f"x = x {op[0]} y for a new tensor, or convert first: x = x.astype('{found}')")


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


from . import graph as _graph  # noqa: E402  (its tracer watches values read out)
from .engine import run_backward  # noqa: E402  (the ops import Tensor from this module)
from .function import primitive_op  # noqa: E402
from .operands import operand  # noqa: E402
from .ops.elementwise import AsType  # noqa: E402
from .ops.shape import ToBackend  # noqa: E402
