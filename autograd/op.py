"""`Op`: the base of the built-in ops, and the table they form.

Each built-in op is one subclass, declared once in `autograd/ops/`: its forward and its
backward side by side, and as class attributes the columns of the op table:

- `method`: the Tensor method and the public function `autograd.<method>` it is exposed as;
  `function`: the public function alone, for ops on several tensors (`concat`). An op with
  neither is reached through an operator or another op. Where the public form takes other
  arguments than `apply` (axes to normalise, say), the class's `call` is that form;
- `operator`: the Python operator it implements (`"__mul__"`; the reflected form of a
  binary operator, `__rmul__`, comes with it);
- `primitive`: the Backend method its forward calls; an op with a primitive and no
  `forward` of its own runs that primitive on its arguments, and `direct` says that the
  forward is that primitive on the same arguments (so a replay can call it instead);
- `uses`: for an op on the lean path, per input, what its gradient reads: input indices and
  `OUTPUT`. The op saves exactly that, for the inputs that need a gradient;
- `fusable`: a memory-bound elementwise op that `autograd.jit` may fuse into one kernel, as
  its primitive; an op that fuses as other primitives says how in `fused_steps(*args)`;
- `onnx`: the ONNX operator it exports as, where it is one node.

The Tensor methods, the public functions, the jit's op table, the fusion and the ONNX export
are derived from these declarations (`OPS`), never listed again.

The lean path: an op with `primitive` and `uses`, on one or two arguments, gets an `apply`
written for it that runs the primitive, and only when recording makes the node (an
instance of the op's class), keeps what `uses` asks for, and makes the output Tensor. The
Tensor's operators are these `apply` functions themselves, so `a * b` is one Python call
before NumPy. Every other op takes `Function.apply`, the general path.
"""

import weakref

from . import grad_mode, graph
from . import tensor as tensor_module
from .function import Function, backend_mix_error, explained_error
from .graph import Constants, Node, edge
from .tensor import _SCALARS, Tensor, new_tensor

OUTPUT = "output"

# In an op's `fused_steps`: the result of the step before, as an argument.
PREVIOUS_STEP = "previous step"

# Every built-in op by class name: the op table.
OPS = {}

# The Tensor methods (and public functions) composed of several ops, by name.
COMPOSED = {}


def composed(fn):
    """Expose `fn(tensor, ...)`, built from ops, as a Tensor method and a public function."""
    COMPOSED[fn.__name__] = fn
    return fn


def exports():
    """{name: (function, is_method)}: every public name the table gives, with the function
    whose first argument is a Tensor (or, for functions alone, the arguments as given)."""
    found = {}
    for op in OPS.values():
        if op.method is not None:
            found[op.method] = (op.__dict__["call"].__func__ if "call" in op.__dict__
                                else op.apply if op.uses is not None else _applying(op), True)
        if op.function is not None:
            found[op.function] = (op.__dict__["call"].__func__, False)
    for name, fn in COMPOSED.items():
        found[name] = (fn, True)
    return found


class Op(Function):
    """A built-in op: one row of the op table (see the module's docstring)."""

    __slots__ = ()

    method = None
    function = None
    operator = None
    primitive = None
    direct = None
    uses = None
    fusable = False
    onnx = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("_"):
            return
        OPS[cls.__name__] = cls
        if cls.primitive is not None and cls.forward is Function.forward:
            cls.forward = staticmethod(_primitive_forward(cls.primitive))
            cls.direct = True
        if cls.uses is not None:
            # The lean path: the node keeps `saved` as the applier made it (Node's reading
            # of it), and the engine calls `backward` itself.
            cls.apply = staticmethod(_LEAN_APPLY[len(cls.uses)](cls))
            cls._backward = cls.backward
            cls._plain = True
            cls.output = Node.output
            cls.check_saved_versions = Node.check_saved_versions

    def backward(ctx, *grads):
        raise NotImplementedError


def _applying(op):
    """`op.apply` as a plain function, to be a Tensor method (a classmethod would not take
    the tensor as its first argument there)."""
    def method(tensor, *args):
        return op.apply(tensor, *args)

    method.__name__ = op.method
    method.__doc__ = op.__doc__
    return method


def _primitive_forward(primitive):
    def forward(ctx, *arrays):
        return getattr(ctx.backend, primitive)(*arrays)

    forward.__name__ = primitive
    return forward


def _unary_apply(cls):
    """`apply(x)` for a one-input lean op; `x` is a Tensor (the op's callers make sure)."""
    primitive = cls.primitive
    (reads,) = cls.uses
    saves_output = OUTPUT in reads
    saves_input = 0 in reads
    state = grad_mode._state
    new_node = cls.__new__
    new_object = object.__new__
    next_sequence = graph.node_counter.__next__
    ref = weakref.ref

    def apply(x):
        backend = x.backend
        try:
            out = getattr(backend, primitive)(x.data)
        except (ValueError, TypeError, OverflowError) as error:
            raise explained_error(cls, error, (x,)) from error
        # The result made as new_tensor makes it, written out: a call costs what this does.
        result = new_object(Tensor)
        result.data = out
        result.backend = backend
        result.grad = None
        result._output_index = 0
        result._version = 0
        result._hooks = None
        if x.requires_grad and state.enabled:
            node = new_node(cls)
            grad_fn = x.grad_fn
            node.next = ((x if grad_fn is None else grad_fn if x._output_index == 0
                          else (grad_fn, x._output_index)),)
            node.backend = backend
            node._sequence = next_sequence()
            node._saved_at = tensor_module.version_clock
            node._grads = None
            result.requires_grad = True
            result.grad_fn = node
            if saves_output:
                node.saved = out
                node._out = ref(result)
            else:
                node.saved = (x,) if saves_input else None
                node._out = None
        else:
            result.requires_grad = False
            result.grad_fn = None
        if graph.observers:
            graph.record(cls, (x,), result)
        return result

    apply.__name__ = cls.__name__ + ".apply"
    return apply


def _binary_apply(cls):
    """`apply(a, b)` for a two-input lean op; one of `a`, `b` is a Tensor, the other a
    Tensor, a Python number or an array the backend accepts as an operand.

    The two common cases, a Tensor with a Python number and two Tensors of one shape and
    dtype, are written out; every other case (reflected operands, arrays, broadcasting,
    mixed dtypes) goes through `general`."""
    primitive = cls.primitive
    reads_a, reads_b = cls.uses
    # What is kept, by which inputs need a gradient: KEEP[needs_a][needs_b] = (keep a, keep b).
    keep = [[(False, False), (0 in reads_b, 1 in reads_b)],
            [(0 in reads_a, 1 in reads_a),
             (0 in reads_a or 0 in reads_b, 1 in reads_a or 1 in reads_b)]]
    keeps_a_for_a = 0 in reads_a
    reads_for_a = bool(reads_a)
    state = grad_mode._state
    new_node = cls.__new__
    new_object = object.__new__
    next_sequence = graph.node_counter.__next__

    def apply(a, b):
        if not isinstance(a, Tensor):
            return general(a, b)
        backend = a.backend
        if type(b) in _SCALARS:
            try:
                out = getattr(backend, primitive)(a.data, b)
            except (ValueError, TypeError, OverflowError) as error:
                raise explained_error(cls, error, (a, b)) from error
            recording = a.requires_grad and state.enabled
            if recording:
                grad_fn = a.grad_fn
                edges = ((a if grad_fn is None else grad_fn if a._output_index == 0
                          else (grad_fn, a._output_index)), None)
                # With a number for `b`, only `a` itself is worth freeing after backward.
                saved = ((a, b) if keeps_a_for_a else Constants((None, b)) if reads_for_a
                         else None)
        elif (isinstance(b, Tensor) and b.backend is backend
              and a.data.shape == b.data.shape and a.data.dtype is b.data.dtype):
            try:
                out = getattr(backend, primitive)(a.data, b.data)
            except (ValueError, TypeError, OverflowError) as error:
                raise explained_error(cls, error, (a, b)) from error
            recording = (a.requires_grad or b.requires_grad) and state.enabled
            if recording:
                edges = (edge(a), edge(b))
                keep_a, keep_b = keep[edges[0] is not None][edges[1] is not None]
                saved = (a if keep_a else None, b if keep_b else None)
        else:
            return general(a, b)
        # The result made as new_tensor makes it, written out: a call costs what this does.
        result = new_object(Tensor)
        result.data = out
        result.backend = backend
        result.grad = None
        result._output_index = 0
        result._version = 0
        result._hooks = None
        if recording:
            node = new_node(cls)
            node.next = edges
            node.saved = saved
            node.backend = backend
            node._sequence = next_sequence()
            node._saved_at = tensor_module.version_clock
            node._grads = None
            node._out = None
            result.requires_grad = True
            result.grad_fn = node
        else:
            result.requires_grad = False
            result.grad_fn = None
        if graph.observers:
            graph.record(cls, (a, b), result)
        return result

    def general(a, b):
        if isinstance(a, Tensor):
            backend = a.backend
            if isinstance(b, Tensor):
                if b.backend is not backend:
                    raise backend_mix_error(cls, backend, b.backend)
            elif type(b) not in _SCALARS:
                b = _operand(cls, backend, b)
        else:
            backend = b.backend
            if type(a) not in _SCALARS:
                a = _operand(cls, backend, a)
        a_data = a.data if isinstance(a, Tensor) else a
        b_data = b.data if isinstance(b, Tensor) else b
        try:
            out = getattr(backend, primitive)(a_data, b_data)
        except (ValueError, TypeError, OverflowError) as error:
            raise explained_error(cls, error, (a, b)) from error
        edge_a = edge(a) if isinstance(a, Tensor) else None
        edge_b = edge(b) if isinstance(b, Tensor) else None
        if (edge_a is None and edge_b is None) or not state.enabled:
            result = new_tensor(out, backend)
        else:
            node = new_node(cls)
            keep_a, keep_b = keep[edge_a is not None][edge_b is not None]
            node.saved = (a if keep_a or type(a) in _SCALARS else None,
                          b if keep_b or type(b) in _SCALARS else None)
            inputs = ((edge_a, a_data), (edge_b, b_data))
            if any(e is not None and (d.shape != out.shape or d.dtype != out.dtype)
                   for e, d in inputs):
                node._fit = tuple([(d.shape, d.dtype) if e is not None else None
                                   for e, d in inputs])
                node._plain = False
            node.next = (edge_a, edge_b)
            node.backend = backend
            node._sequence = next_sequence()
            node._saved_at = tensor_module.version_clock
            node._grads = None
            node._out = None
            result = new_tensor(out, backend, True, node)
        if graph.observers:
            graph.record(cls, (a, b), result)
        return result

    apply.__name__ = cls.__name__ + ".apply"
    return apply


_LEAN_APPLY = {1: _unary_apply, 2: _binary_apply}


def _operand(op, backend, value):
    """A non-Tensor operand as a backend array, refused with the op's name when the backend
    may not take it (a string, another device's array)."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{op.method or op.__name__.lower()}: cannot combine a tensor with "
                        f"{type(value).__name__} {value!r:.40}; use a number, an array or a "
                        f"tensor")
    return backend.operand(value)
