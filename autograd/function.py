"""`Function`: how an op's forward and backward are declared, and the graph node it leaves.

`forward` works on backend arrays; `backward` works on Tensors, so it is itself recorded when
`create_graph=True` and gradients of gradients need no second set of formulas.
"""

import itertools
import weakref

from . import grad_mode
from . import tensor as tensor_module
from .tensor import _SCALARS, Tensor

# The tracer of `autograd.jit.trace` while a trace runs, else None: every op reports to it.
_tracer = None


class _ForwardOnlyContext:
    """The context `forward` gets when nothing will be differentiated: saving is a no-op."""

    __slots__ = ("backend", "__dict__")

    output_backend = None

    def __init__(self, backend):
        self.backend = backend

    def save_for_backward(self, *values):
        pass


_node_count = itertools.count()

# What `_saved` holds once a backward without `retain_graph` has run.
_FREED = object()


class Context:
    """A node of the graph: what one op application needs for its backward.

    It refers to its inputs (so the graph stays alive while any output does) but to its
    outputs only weakly, so dropping the last tensor of a graph frees it at once. The
    attributes a few ops need (several outputs, hooks, another output backend, outputs
    saved for backward) are class defaults, so the common node costs only what it uses.
    """

    __slots__ = ("fn", "backend", "inputs", "_sequence", "_saved", "_saved_at", "_grads",
                 "__dict__")

    output_backend = None
    _n_outputs = 1
    _outputs = None
    _hooks = None

    def __init__(self, fn, backend, inputs):
        self.fn = fn
        self.backend = backend
        self.inputs = inputs
        self._sequence = next(_node_count)  # backward runs nodes newest first
        self._saved = None
        self._grads = None

    @property
    def needs_input_grad(self):
        """For each forward argument, whether it is a tensor that requires grad."""
        return [isinstance(a, Tensor) and a.requires_grad for a in self.inputs]

    def save_for_backward(self, *values):
        """Keep arrays (or other values) for backward; read them back as `saved_tensors`."""
        self._saved = values

    @property
    def saved_tensors(self):
        """Each saved value as the input or output Tensor whose array it is (checking that
        the tensor was not changed in place since), any other array as a constant."""
        saved = self._saved
        if saved is None:
            return ()
        if saved is _FREED:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time, but its "
                f"saved values were freed by the first backward(). Pass retain_graph=True to "
                f"the first backward() (or autograd.grad) to keep them.")
        if len(saved) == 1:
            return (self._saved_tensor(saved[0]),)
        return tuple([self._saved_tensor(value) for value in saved])

    def _saved_tensor(self, value):
        """The output or input Tensor whose array `value` is, else `value` as a constant."""
        if type(value) in _SCALARS:  # a Python number, as `x * 0.5` saves it
            return value
        if self._outputs is not None:
            for ref in self._outputs:
                tensor = ref()
                if tensor is not None and tensor.data is value:
                    if tensor._version > self._saved_at:
                        raise self._modified_error(tensor)
                    return tensor
        for tensor in self.inputs:
            if isinstance(tensor, Tensor) and tensor.data is value:
                if tensor._version > self._saved_at:
                    raise self._modified_error(tensor)
                return tensor
        if self._outputs is not None and len(self._outputs) == 1:
            # The output Tensor is gone; its node is not.
            return Tensor(value, self.output_backend or self.backend, True, self, 0)
        if self.backend.is_native(value):
            return Tensor(value, self.backend)
        return value

    def _modified_error(self, tensor):
        if any(t is tensor for t in self.inputs):
            index = next(i for i, t in enumerate(self.inputs) if t is tensor)
            role = f"input {index}"
        else:
            role = f"its output {tensor._output_index}"
        return RuntimeError(
            f"{self.name()}: {role} (shape {tuple(tensor.shape)}), saved for backward, was "
            f"modified in place since. Use an out-of-place operation (x = x + y instead of "
            f"x += y), or clone it before changing it.")

    def name(self):
        return self.fn.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"


def _describe(args):
    parts = []
    for a in args:
        if isinstance(a, Tensor):
            parts.append(f"{tuple(a.shape)} {a.dtype}")
        elif hasattr(a, "shape"):
            parts.append(f"array {tuple(a.shape)}")
    return ", ".join(parts)


class Function:
    """Base class of every op. Subclass with static `forward(ctx, *args)` (backend arrays in,
    a backend array or a tuple of them out) and `backward(ctx, *grads)` (Tensors in, one
    Tensor or None per forward argument out); apply with `MyOp.apply(*args)`."""

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        # This runs for every op, forward and backward, so it is written for speed: the
        # one- and two-argument cases are spelled out (no loop, no list, no call with
        # *arrays), and the common path calls no helper.
        n = len(args)
        if n == 1:
            x = args[0]
            if not isinstance(x, Tensor):
                raise _no_tensor(cls)
            backend = x.backend
            requires_grad = x.requires_grad
            x = x.data
        elif n == 2:
            x, y = args
            if isinstance(x, Tensor):
                backend = x.backend
                requires_grad = x.requires_grad
                x = x.data
                if isinstance(y, Tensor):
                    if y.backend is not backend:
                        raise _backend_mix(cls, backend, y.backend)
                    requires_grad = requires_grad or y.requires_grad
                    y = y.data
            elif isinstance(y, Tensor):
                backend = y.backend
                requires_grad = y.requires_grad
                y = y.data
            else:
                raise _no_tensor(cls)
        else:
            backend = None
            requires_grad = False
            arrays = []
            for a in args:
                if isinstance(a, Tensor):
                    if a.backend is not backend:
                        if backend is not None:
                            raise _backend_mix(cls, backend, a.backend)
                        backend = a.backend
                    requires_grad = requires_grad or a.requires_grad
                    a = a.data
                arrays.append(a)
            if backend is None:
                raise _no_tensor(cls)
        recording = requires_grad and grad_mode._state.enabled
        ctx = Context(cls, backend, args) if recording else _ForwardOnlyContext(backend)
        try:
            if n == 1:
                out = cls.forward(ctx, x)
            elif n == 2:
                out = cls.forward(ctx, x, y)
            else:
                out = cls.forward(ctx, *arrays)
        except (ValueError, TypeError, IndexError) as error:
            raise _explained(cls, error, args) from error

        out_backend = ctx.output_backend or backend
        if not recording:
            if type(out) is tuple:
                result = tuple([Tensor(o, out_backend) for o in out])
            else:
                result = Tensor(out, out_backend)
        else:
            if type(out) is tuple:
                result = tuple([Tensor(o, out_backend, True, ctx, i)
                                for i, o in enumerate(out)])
                ctx._n_outputs = len(result)
                ctx._outputs = [weakref.ref(t) for t in result]
            else:
                result = Tensor(out, out_backend, True, ctx, 0)
                # A saved output is found again, for backward, through a weak reference.
                if ctx._saved is not None:
                    for value in ctx._saved:
                        if value is out:
                            ctx._outputs = (weakref.ref(result),)
            if ctx._saved is not None:
                # Saved values are checked against in-place changes made after this point.
                ctx._saved_at = tensor_module.version_clock
        if _tracer is not None:
            _tracer.record(cls, args, result)
        return result


def _explained(op, error, args):
    """The same kind of error, naming the op and its inputs' shapes."""
    kind = next(k for k in (IndexError, TypeError, ValueError) if isinstance(error, k))
    return kind(f"{op.__name__.lower()}: {error} (inputs: {_describe(args)})")


def primitive_op(backend, name, *args):
    """The backend primitive `name` on Tensors and other values, for the ops that have no
    gradient (comparisons, sign, argmax): a Tensor outside the graph, which a running trace
    still records."""
    arrays = [a.data if isinstance(a, Tensor) else a for a in args]
    result = Tensor(getattr(backend, name)(*arrays), backend)
    if _tracer is not None:
        _tracer.record_primitive(name, args, result)
    return result


def _no_tensor(op):
    return TypeError(f"{op.__name__}.apply needs at least one Tensor argument")


def _backend_mix(op, first, second):
    return TypeError(
        f"{op.__name__.lower()}: tensors are on different backends, {first.name!r} and "
        f"{second.name!r}. Move one with .to({first.name!r}) or .to({second.name!r}) first.")
