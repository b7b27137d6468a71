"""`Function`: how an op's forward and backward are declared, and the graph node it leaves.

`forward` works on backend arrays; `backward` works on Tensors, so it is itself recorded when
`create_graph=True` and gradients of gradients need no second set of formulas.
"""

import weakref

from . import grad_mode
from . import tensor as tensor_module
from .tensor import Tensor

# The tracer of `autograd.jit.trace` while a trace runs, else None: every op reports to it.
_tracer = None


class _ForwardOnlyContext:
    """The context `forward` gets when nothing will be differentiated: saving is a no-op."""

    __slots__ = ("backend", "output_backend", "__dict__")

    def __init__(self, backend):
        self.backend = backend
        self.output_backend = backend

    def save_for_backward(self, *values):
        pass


class Context:
    """A node of the graph: what one op application needs for its backward.

    It refers to its inputs (so the graph stays alive while any output does) but to its
    outputs only weakly, so dropping the last tensor of a graph frees it at once. The
    attributes a few ops need (several outputs, hooks, another output backend) are class
    defaults, so the common node costs only what it uses.
    """

    __slots__ = ("fn", "backend", "inputs", "needs_input_grad", "_saved", "_saved_at",
                 "_to_save", "_freed", "_grads", "_outputs", "_pending", "_visit", "__dict__")

    output_backend = None
    _n_outputs = 1
    _hooks = None

    def __init__(self, fn, backend, inputs, needs_input_grad):
        self.fn = fn
        self.backend = backend
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad
        self._to_save = None
        self._saved = None
        self._freed = False
        self._grads = None
        self._outputs = None
        self._visit = None

    def save_for_backward(self, *values):
        """Keep arrays (or other values) for backward; read them back as `saved_tensors`."""
        self._to_save = values

    def _bind_saved(self, outputs):
        """Note when the values were saved (to catch later in-place changes) and which of
        them are outputs, so `saved_tensors` can hand back Tensors connected to the graph."""
        self._saved = self._to_save
        self._to_save = None
        self._saved_at = tensor_module.version_clock
        for out in outputs:
            data = out.data
            for value in self._saved:
                if value is data:
                    if self._outputs is None:
                        self._outputs = [weakref.ref(t) for t in outputs]
                    return

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(
                    f"{self.name()}: trying to backward through the graph a second time, but "
                    f"its saved values were freed by the first backward(). Pass "
                    f"retain_graph=True to the first backward() (or autograd.grad) to keep "
                    f"them.")
            return ()
        if len(saved) == 1:
            return (self._saved_tensor(saved[0]),)
        return tuple([self._saved_tensor(value) for value in saved])

    def _saved_tensor(self, value):
        """The input or output Tensor whose array `value` is, else `value` as a constant."""
        for tensor in self.inputs:
            if isinstance(tensor, Tensor) and tensor.data is value:
                if tensor._version > self._saved_at:
                    index = next(i for i, t in enumerate(self.inputs) if t is tensor)
                    raise RuntimeError(
                        f"{self.name()}: input {index} (shape {tuple(tensor.shape)}), saved "
                        f"for backward, was modified in place since. Use an out-of-place "
                        f"operation (x = x + y instead of x += y), or clone it before "
                        f"changing it.")
                return tensor
        if self._outputs is not None:
            for index, ref in enumerate(self._outputs):
                tensor = ref()
                if tensor is None:
                    continue
                if tensor.data is value:
                    if tensor._version > self._saved_at:
                        raise RuntimeError(
                            f"{self.name()}: its output {index} (shape "
                            f"{tuple(tensor.shape)}), saved for backward, was modified in "
                            f"place since. Use an out-of-place operation instead.")
                    return tensor
            if len(self._outputs) == 1:  # the output Tensor is gone; its node is not
                return Tensor(value, self.output_backend or self.backend, True, self, 0)
        if self.backend.is_native(value):
            return Tensor(value, self.backend)
        return value

    def _free(self):
        if self._saved is not None:
            self._saved = None
            self._freed = True

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
        backend = None
        requires_grad = False
        arrays = []
        needs = []
        for a in args:
            if isinstance(a, Tensor):
                if backend is None:
                    backend = a.backend
                elif a.backend is not backend:
                    raise _backend_mix(cls, backend, a.backend)
                if a.requires_grad:
                    requires_grad = True
                arrays.append(a.data)
                needs.append(a.requires_grad)
            else:
                arrays.append(a)
                needs.append(False)
        if backend is None:
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor argument")

        if not (requires_grad and grad_mode._state.enabled):
            ctx = _ForwardOnlyContext(backend)
            try:
                out = cls.forward(ctx, *arrays)
            except (ValueError, TypeError, IndexError) as error:
                raise _explained(cls, error, args) from error
            if type(out) is tuple:
                result = tuple(Tensor(o, ctx.output_backend) for o in out)
            else:
                result = Tensor(out, ctx.output_backend)
            if _tracer is not None:
                _tracer.record(cls, args, result)
            return result

        ctx = Context(cls, backend, args, needs)
        try:
            out = cls.forward(ctx, *arrays)
        except (ValueError, TypeError, IndexError) as error:
            raise _explained(cls, error, args) from error
        out_backend = ctx.output_backend or backend
        if type(out) is tuple:
            outputs = tuple(Tensor(o, out_backend, True, ctx, i) for i, o in enumerate(out))
            ctx._n_outputs = len(outputs)
            ctx._outputs = [weakref.ref(t) for t in outputs]
            result = outputs
        else:
            result = Tensor(out, out_backend, True, ctx, 0)
            outputs = (result,)
        if ctx._to_save is not None:
            ctx._bind_saved(outputs)
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


def _backend_mix(op, first, second):
    return TypeError(
        f"{op.__name__.lower()}: tensors are on different backends, {first.name!r} and "
        f"{second.name!r}. Move one with .to({first.name!r}) or .to({second.name!r}) first.")
