"""`Function`: the public protocol for adding an op, and the general path of built-in ops.

Subclass with static `forward(ctx, *args)` (backend arrays in, a backend array or a tuple of
them out) and `backward(ctx, *grads)` (Tensors in, one Tensor or None per forward argument
out), and apply with `MyOp.apply(*args)`. `ctx` is the graph node itself, an instance of the
subclass (as in PyTorch), so everything `forward` stores on it is there for `backward`.
`backward` works on Tensors, so it is itself recorded when `create_graph=True` and gradients
of gradients need no second set of formulas.
"""

import weakref

from . import grad_mode, graph
from . import tensor as tensor_module
from .graph import FREED, Node, edge
from .tensor import _SCALARS, Tensor


class _Output:
    """In `saved`: the op's output number `index` (found again through its weak reference,
    or made anew from `array` once the caller dropped it)."""

    __slots__ = ("index", "array")

    def __init__(self, index, array):
        self.index = index
        self.array = array


class _ForwardContext:
    """The `ctx` that `forward` gets when nothing will be differentiated: no gradient is
    needed and saving is a no-op, but attributes can still be set and read."""

    def __init__(self, backend, n_args):
        self.backend = backend
        self.needs_input_grad = (False,) * n_args
        self.materialize_grads = True

    def save_for_backward(self, *values):
        pass

    def mark_non_differentiable(self, *arrays):
        pass

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class Function(Node):
    """Base class of user-defined ops (and of the built-in ops that take the general path).
    Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`; apply with
    `MyOp.apply(*args)`."""

    __slots__ = ()

    materialize_grads = True
    _non_differentiable = ()

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    # ------------------------------------------------------------------ what forward calls
    def save_for_backward(self, *values):
        """Keep arrays (or other values) for backward; read them back as `saved_tensors`."""
        self.saved = values

    def mark_non_differentiable(self, *arrays):
        """Outputs (given as the arrays forward returns) that get no gradient."""
        self._non_differentiable = tuple(id(a) for a in arrays)

    def set_materialize_grads(self, value):
        """With False, backward gets None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        """Each saved value as the input or output Tensor whose array it is (checked against
        in-place changes since), any other array as a constant Tensor."""
        saved = self.saved
        if saved is None:
            return ()
        if saved is FREED or self._saved_at != tensor_module.version_clock:
            self.check_saved_versions()
        return tuple([self._output_tensor(v) if type(v) is _Output else v for v in saved])

    def _output_tensor(self, saved_output):
        tensor = self._out[saved_output.index]()
        if tensor is None:
            return Tensor(saved_output.array, self.backend, True, self, saved_output.index)
        return tensor

    def check_saved_versions(self):
        saved = self.saved
        if saved is FREED:
            raise self.freed_error()
        for value in saved or ():
            if type(value) is _Output:
                value = self._out[value.index]()
            if isinstance(value, Tensor) and value._version > self._saved_at:
                raise self.modified_error(value)

    def output(self):
        """The first output as a Tensor, for a built-in op on the general path that saved
        it."""
        return next(self._output_tensor(v) for v in self.saved if type(v) is _Output)

    # ------------------------------------------------------------------ applying
    @classmethod
    def apply(cls, *args):
        backend = None
        requires_grad = False
        arrays = []
        for a in args:
            if isinstance(a, Tensor):
                if a.backend is not backend:
                    if backend is not None:
                        raise backend_mix_error(cls, backend, a.backend)
                    backend = a.backend
                requires_grad = requires_grad or a.requires_grad
                a = a.data
            arrays.append(a)
        if backend is None:
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor argument")
        recording = requires_grad and grad_mode._state.enabled
        if recording:
            ctx = cls.__new__(cls)
            ctx.next = tuple([edge(a) if isinstance(a, Tensor) else None for a in args])
            ctx.backend = backend
            ctx.saved = None
            ctx._out = None
            ctx._grads = None
        else:
            ctx = _ForwardContext(backend, len(args))
        try:
            out = cls.forward(ctx, *arrays)
        except (ValueError, TypeError, IndexError, OverflowError) as error:
            raise explained_error(cls, error, args) from error
        out_backend = getattr(ctx, "output_backend", None) or backend
        if not recording:
            result = (tuple([Tensor(o, out_backend) for o in out]) if type(out) is tuple
                      else Tensor(out, out_backend))
        else:
            result = ctx._record(args, out, out_backend)
        if graph.observers:
            graph.record(cls, args, result)
        return result

    def _record(self, args, out, out_backend):
        """Make the output Tensors of this node and resolve what forward saved."""
        self._sequence = next(graph.node_counter)
        self._saved_at = tensor_module.version_clock
        self._fit = tuple([(a.data.shape, a.data.dtype) if e is not None else None
                           for a, e in zip(args, self.next)])
        outs = out if type(out) is tuple else (out,)
        skip = self._non_differentiable
        tensors = tuple([Tensor(o, out_backend, id(o) not in skip, self if id(o) not in skip
                                else None, i) for i, o in enumerate(outs)])
        if len(outs) > 1:
            self.n_outputs = len(outs)
        self._out = tuple([weakref.ref(t) for t in tensors])
        if len(outs) > 1:
            self._out_meta = tuple([(o.shape, self.backend.dtype_name(o)) for o in outs])
        if self.saved is not None:
            self.saved = tuple([self._resolve(v, args, outs) for v in self.saved])
        return tensors if type(out) is tuple else tensors[0]

    def _resolve(self, value, args, outs):
        """A saved value as what backward will get: an output marker, the input Tensor
        whose array it is, or a constant."""
        if type(value) in _SCALARS or value is None:
            return value
        for i, o in enumerate(outs):
            if o is value:
                return _Output(i, o)
        for a in args:
            if isinstance(a, Tensor) and a.data is value:
                return a
        if self.backend.is_native(value):
            return Tensor(value, self.backend)
        return value

    def _backward(self, *grads):
        """What the engine calls: the subclass's `backward`, its result checked."""
        if self.n_outputs > 1 and self.materialize_grads:
            grads = tuple([g if g is not None else self._zeros_like_output(i)
                           for i, g in enumerate(grads)])
        result = type(self).backward(self, *grads)
        if type(result) is not tuple:
            result = (result,)
        if len(result) != len(self.next):
            raise RuntimeError(
                f"{self.name()}: backward returned {len(result)} gradient(s) for "
                f"{len(self.next)} forward argument(s); return one per argument (None for "
                f"those without a gradient)")
        for g in result:
            if g is not None and not isinstance(g, Tensor):
                raise TypeError(f"{self.name()}: backward must return Tensors or None, got "
                                f"{type(g).__name__}")
        return result

    def _zeros_like_output(self, index):
        shape, dtype = self._out_meta[index]
        return Tensor(self.backend.zeros(shape, dtype), self.backend)


Context = Function  # the type of `ctx` in forward and backward while recording


def describe(args):
    parts = []
    for a in args:
        if isinstance(a, Tensor):
            parts.append(f"{tuple(a.shape)} {a.dtype}")
        elif hasattr(a, "shape"):
            parts.append(f"array {tuple(a.shape)}")
    return ", ".join(parts)


def op_name(op):
    return getattr(op, "method", None) or op.__name__.lower()


def explained_error(op, error, args):
    """The same kind of error, naming the op and its inputs' shapes (an overflow, such as
    a Python integer too large for the tensor's dtype, is a ValueError)."""
    kind = next((k for k in (IndexError, TypeError, ValueError) if isinstance(error, k)),
                ValueError)
    return kind(f"{op_name(op)}: {error} (inputs: {describe(args)})")


def backend_mix_error(op, first, second):
    return TypeError(
        f"{op_name(op)}: tensors are on different backends, {first.name!r} and "
        f"{second.name!r}. Move one with .to({first.name!r}) or .to({second.name!r}) first.")


def primitive_op(backend, name, *args):
    """The backend primitive `name` on Tensors and other values, for the ops that have no
    gradient (comparisons, sign, argmax): a Tensor outside the graph, which a running trace
    still records."""
    arrays = [a.data if isinstance(a, Tensor) else a for a in args]
    result = Tensor(getattr(backend, name)(*arrays), backend)
    if graph.observers:
        tracer = graph.tracing.tracer
        if tracer is not None:
            tracer.record_primitive(name, args, result)
    return result
