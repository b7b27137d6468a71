"""`Function`: how an op's forward and backward are declared, and the graph node it leaves.

`forward` works on backend arrays; `backward` works on Tensors, so it is itself recorded when
`create_graph=True` and gradients of gradients need no second set of formulas.
"""

import weakref

from . import grad_mode
from .tensor import Tensor

_SAVED_INPUT, _SAVED_OUTPUT, _SAVED_CONSTANT = 0, 1, 2


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
    outputs only weakly, so dropping the last tensor of a graph frees it at once.
    """

    __slots__ = ("fn", "backend", "output_backend", "inputs", "needs_input_grad",
                 "_saved", "_to_save", "_freed", "_grads", "_outputs", "_n_outputs",
                 "_hooks", "__dict__")

    def __init__(self, fn, backend, inputs, needs_input_grad):
        self.fn = fn
        self.backend = backend
        self.output_backend = backend
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad
        self._to_save = None
        self._saved = None
        self._freed = False
        self._grads = None
        self._outputs = None
        self._n_outputs = 1
        self._hooks = None

    def save_for_backward(self, *values):
        """Keep arrays (or other values) for backward; read them back as `saved_tensors`."""
        self._to_save = values

    def _bind_saved(self, arrays, outputs):
        """Match each saved array with the input or output it is, so that `saved_tensors`
        hands back that Tensor, connected to the graph."""
        saved = []
        for value in self._to_save:
            for i, array in enumerate(arrays):
                if value is array and isinstance(self.inputs[i], Tensor):
                    saved.append((_SAVED_INPUT, i, self.inputs[i]._version))
                    break
            else:
                for j, out in enumerate(outputs):
                    if value is out.data:
                        if self._outputs is None:
                            self._outputs = [weakref.ref(t) for t in outputs]
                        saved.append((_SAVED_OUTPUT, j, value))
                        break
                else:
                    saved.append((_SAVED_CONSTANT, None, value))
        self._saved = saved
        self._to_save = None

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time, but its "
                f"saved values were freed by the first backward(). Pass retain_graph=True to "
                f"the first backward() (or autograd.grad) to keep them.")
        if self._saved is None:
            return ()
        result = []
        for kind, index, value in self._saved:
            if kind == _SAVED_INPUT:
                tensor = self.inputs[index]
                if tensor._version != value:
                    raise RuntimeError(
                        f"{self.name()}: input {index} (shape {tuple(tensor.shape)}) saved for "
                        f"backward was modified in place (version {value} -> "
                        f"{tensor._version}). Use an out-of-place operation (x = x + y "
                        f"instead of x += y), or clone it before changing it.")
                result.append(tensor)
            elif kind == _SAVED_OUTPUT:
                tensor = self._outputs[index]()
                if tensor is None:
                    tensor = Tensor(value, self.output_backend, True, self, index)
                elif tensor._version != 0:
                    raise RuntimeError(
                        f"{self.name()}: its output {index} (shape {tuple(tensor.shape)}), "
                        f"saved for backward, was modified in place. Use an out-of-place "
                        f"operation instead.")
                result.append(tensor)
            else:
                result.append(value if not self.backend.is_native(value)
                              else Tensor(value, self.backend))
        return tuple(result)

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
        for a in args:
            if isinstance(a, Tensor):
                if backend is None:
                    backend = a.backend
                elif a.backend is not backend:
                    raise _backend_mix(cls, backend, a.backend)
                requires_grad = requires_grad or a.requires_grad
                arrays.append(a.data)
            else:
                arrays.append(a)
        if backend is None:
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor argument")

        if not (requires_grad and grad_mode._state.enabled):
            ctx = _ForwardOnlyContext(backend)
            out = cls._forward(ctx, arrays, args)
            if type(out) is tuple:
                return tuple(Tensor(o, ctx.output_backend) for o in out)
            return Tensor(out, ctx.output_backend)

        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = Context(cls, backend, args, needs)
        out = cls._forward(ctx, arrays, args)
        if type(out) is tuple:
            outputs = tuple(Tensor(o, ctx.output_backend, True, ctx, i)
                            for i, o in enumerate(out))
            ctx._n_outputs = len(outputs)
            ctx._outputs = [weakref.ref(t) for t in outputs]
            result = outputs
        else:
            result = Tensor(out, ctx.output_backend, True, ctx, 0)
            outputs = (result,)
        if ctx._to_save is not None:
            ctx._bind_saved(arrays, outputs)
        return result

    @classmethod
    def _forward(cls, ctx, arrays, args):
        try:
            return cls.forward(ctx, *arrays)
        except (ValueError, TypeError, IndexError) as error:
            kind = TypeError if isinstance(error, TypeError) else ValueError
            if isinstance(error, IndexError):
                kind = IndexError
            raise kind(f"{cls.__name__.lower()}: {error} (inputs: {_describe(args)})") from error


def _backend_mix(op, first, second):
    return TypeError(
        f"{op.__name__.lower()}: tensors are on different backends, {first.name!r} and "
        f"{second.name!r}. Move one with .to({first.name!r}) or .to({second.name!r}) first.")
