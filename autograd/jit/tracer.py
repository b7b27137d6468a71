"""`trace`: run a function once and record every op it applies into a `Program`.

Every op reports to the tracer through the hook in `Function.apply` (and `primitive_op`
for the ops without a gradient). The tracer numbers each value it sees: the example inputs,
tensors that require grad met along the way (the parameters), other tensors and arrays met
along the way (constants: made inside the function, or captured from outside it), and op
results. Only ops are recorded: Python control flow, `.item()` and random draws run once, at
trace time, and the program keeps what they did then.
"""

import threading

from .. import graph
from ..ops.index import GetItem
from ..ops.shape import ToBackend
from ..tensor import Tensor
from .ops import DETACH
from .program import CONSTANT, INPUT, PARAMETER, RESULT, Instruction, Program, Ref
from .traced import Traced


class Tracer:
    def __init__(self, name, backend):
        self.program = Program(name)
        self.backend = backend
        self.parameters = []  # a Tensor per parameter slot, shared with the function's owner
        self.constants = []  # a Tensor per constant slot
        self._slots = {}  # id(tensor) and id(array) -> slot
        self._seen = []  # what the ids above belong to, kept alive so that ids stay unique
        self._thread = threading.get_ident()

    # ---------------------------------------------------------------- hooks of the ops
    def record(self, fn, args, result):
        if threading.get_ident() != self._thread:
            return
        if fn is ToBackend:
            raise TypeError(f"jit.trace: the function moves a tensor to backend "
                            f"{args[1].name!r} (Tensor.to); a traced program runs on one "
                            f"backend. Move the inputs and parameters before tracing.")
        if fn is GetItem:
            self._check_static_index(args[1])
        self._instruction(fn.__name__, fn, args, result)

    def record_primitive(self, name, args, result):
        if threading.get_ident() == self._thread:
            self._instruction(name, None, args, result)

    def _instruction(self, op, fn, args, result):
        encoded = tuple(self._argument(a) for a in args)
        results = result if type(result) is tuple else (result,)
        for tensor in results:
            if tensor.backend is not self.backend:
                raise TypeError(f"jit.trace: {op} ran on backend {tensor.backend.name!r} but "
                                f"the inputs are on {self.backend.name!r}; a traced program "
                                f"runs on one backend")
        outputs = [self._new_slot(RESULT, t) for t in results]
        self.program.instructions.append(
            Instruction(op, fn, encoded, outputs, type(result) is tuple))

    def _check_static_index(self, index):
        """A boolean mask computed from the inputs selects a number of elements that depends
        on their values: no static program has that shape."""
        for part in index if isinstance(index, tuple) else (index,):
            if (self.backend.is_native(part) and self.backend.dtype_name(part) == "bool"
                    and id(part) in self._slots):
                raise ValueError("jit.trace: the function indexes with a boolean mask computed "
                                 "from its inputs, so the result's shape depends on their "
                                 "values; a traced program has fixed shapes. Use "
                                 "autograd.where(mask, x, 0) instead.")

    # ---------------------------------------------------------------- numbering values
    def add_input(self, tensor):
        if id(tensor) in self._slots:
            raise ValueError("jit.trace: the same tensor is passed as two example inputs; "
                             "pass a distinct tensor for each input")
        self._new_slot(INPUT, tensor, f"input{len(self.program.inputs)}")

    def _new_slot(self, kind, tensor, name=None):
        slot = self.program.add_slot(kind, tensor.shape, tensor.dtype, name)
        self._slots[id(tensor)] = slot
        self._slots[id(tensor.data)] = slot
        self._seen.append((tensor, tensor._version))
        return slot

    def _argument(self, value):
        if isinstance(value, Tensor):
            return Ref(self._slot_of(value))
        if isinstance(value, (tuple, list)):
            return type(value)(self._argument(v) for v in value)
        if self.backend.is_native(value):
            slot = self._slots.get(id(value))
            if slot is None:
                slot = self._constant(Tensor(value, self.backend))
            return Ref(slot, as_array=True)
        return value

    def _slot_of(self, tensor):
        slot = self._slots.get(id(tensor))
        if slot is not None:
            return slot
        shared = self._slots.get(id(tensor.data))
        if shared is not None:
            # A tensor over a traced value's array made outside the ops: `t.detach()`.
            result = self._new_slot(RESULT, tensor)
            self.program.instructions.append(Instruction(DETACH, None, (Ref(shared),),
                                                         (result,)))
            return result
        if tensor.requires_grad:
            slot = self._new_slot(PARAMETER, tensor)
            self.parameters.append(tensor)
            return slot
        return self._constant(tensor)

    def _constant(self, tensor):
        slot = self._new_slot(CONSTANT, tensor, f"constant{len(self.program.constants)}")
        self.constants.append(tensor)
        return slot

    # ---------------------------------------------------------------- the end of the trace
    def finish(self, output, parameter_names):
        """Record what the function returned, name the parameters and check that nothing
        was changed in place (a program cannot replay that)."""
        self.program.output = self._output(output)
        for i, (slot, tensor) in enumerate(zip(self.program.parameters, self.parameters)):
            self.program.slots[slot].name = parameter_names.get(id(tensor), f"parameter{i}")
        for tensor, version in self._seen:
            if tensor._version != version:
                slot = self._slots[id(tensor)]
                raise RuntimeError(
                    f"jit.trace: the function changed %{slot} (shape {tuple(tensor.shape)}) "
                    f"in place (+=, -=, *=, /= or an optimiser step); a traced program cannot "
                    f"replay in-place changes. Write x = x + y instead.")

    def _output(self, value):
        if isinstance(value, Tensor):
            return Ref(self._slot_of(value))
        if isinstance(value, (tuple, list)):
            return type(value)(self._output(v) for v in value)
        raise TypeError(f"jit.trace: the function returned a {type(value).__name__}; a traced "
                        f"function must return a Tensor, or a tuple or list of them")


def trace_with_output(fn, inputs, source=None):
    """Trace `fn(*inputs)`: the Traced program and the output of this first run. The
    program takes its name and parameter names from `source` (default: `fn`)."""
    source = fn if source is None else source
    backend = _common_backend(inputs)
    tracer = Tracer(getattr(source, "__name__", type(source).__name__), backend)
    for tensor in inputs:
        tracer.add_input(tensor)
    graph.start_trace(tracer)
    try:
        output = fn(*inputs)
    finally:
        graph.stop_trace()
    tracer.finish(output, _parameter_names(source))
    return Traced(tracer.program, backend, tracer.parameters, tracer.constants), output


def trace(fn, *example_inputs):
    """Run `fn(*example_inputs)` once and record it as a `Traced` program: calling that
    replays the ops on new inputs of the same shapes and dtypes. `fn` is any callable (a
    Module too); its parameters are the tensors it uses that require grad, and stay shared
    with it."""
    return trace_with_output(fn, example_inputs)[0]


def _common_backend(inputs):
    import backends

    if not inputs:
        return backends.current()
    for i, value in enumerate(inputs):
        if not isinstance(value, Tensor):
            raise TypeError(f"jit.trace: example input {i} is a {type(value).__name__}; pass "
                            f"Tensors (make one with autograd.tensor(...))")
    backend = inputs[0].backend
    for i, tensor in enumerate(inputs):
        if tensor.backend is not backend:
            raise TypeError(f"jit.trace: example input {i} is on backend "
                            f"{tensor.backend.name!r} but input 0 on {backend.name!r}; move "
                            f"it with .to({backend.name!r})")
    return backend


def _parameter_names(fn):
    """Parameter names from a Module-like `named_parameters()`, by tensor identity."""
    named = getattr(fn, "named_parameters", None)
    if not callable(named):
        return {}
    return {id(tensor): name for name, tensor in named()}
