"""`trace`: run a function once and record every op it applies into a `Program`.

Every op reports to the tracer through the hook in `Function.apply` (and `primitive_op`
for the ops without a gradient). The tracer numbers each value it sees: the example inputs,
tensors that require grad met along the way (the parameters), other tensors and arrays met
along the way (constants: made inside the function, or captured from outside it), and op
results. Only ops are recorded: Python control flow and random draws run once, at trace
time, and the program keeps what they did then. Reading a traced value out as Python data
(`.item()`, `float(t)`, `bool(t)` in an `if`, `.tolist()`, `.numpy()`) raises: whatever the
function did with it would be frozen into the program, for every later input.
"""

import threading

from .. import graph
from ..ops.index import GetItem
from ..ops.shape import ToBackend
from ..tensor import Tensor
from .dynamic import batched_inputs, generalize, grown
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
        self._producer = {}  # result slot -> the op that made it, for error messages
        self._saved_by = {}  # id(array) -> (instruction, index) for what a forward saved
        self._thread = threading.get_ident()
        # While a backward pass is traced, an array made outside the ops is a value computed
        # from the data that the program would keep as a constant: set by compile_step.
        self.in_backward = False

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
        for slot in outputs:
            self._producer[slot] = op
        instruction = Instruction(op, fn, encoded, outputs, type(result) is tuple)
        self.program.instructions.append(instruction)
        self._note_saved_values(instruction, results[0].grad_fn)

    def _note_saved_values(self, instruction, node):
        """Remember the arrays the op's forward saved for backward that are no slot (made
        inside the forward): a traced backward reading one gets it from this instruction."""
        saved = node.saved if node is not None else None
        if node is None or type(node) is not instruction.fn or type(saved) is not tuple:
            return
        for index, value in enumerate(saved):
            # A saved array that is neither an input nor an output comes back from
            # `saved_tensors` as a constant Tensor around it.
            value = value.data if isinstance(value, Tensor) and value.grad_fn is None else value
            if self.backend.is_native(value) and id(value) not in self._slots:
                self._saved_by[id(value)] = (instruction, index)
                self._seen.append((Tensor(value, self.backend), 0))  # keeps the id unique

    def record_backend_call(self, name, args, result):
        """A backend primitive called straight on traced arrays, outside any op (a backward
        rule computing a mask, as abs, max and min do): recorded as a primitive when every
        array it reads is a traced value, so the array it returns is one too. (Calls inside
        an op's forward are recorded as well; the op's own instruction supersedes them and
        replay skips them as unused.)"""
        if threading.get_ident() != self._thread or not self.backend.is_native(result):
            return
        arrays = [a for a in _flattened(args) if self.backend.is_native(a)]
        if not arrays or any(id(a) not in self._slots for a in arrays):
            return
        self._instruction(name, None, args, Tensor(result, self.backend))

    def record_in_place(self, name, args):
        """A backend primitive that changes its first argument in place (`add_into`, as
        backward sums a leaf's third gradient into its second): replayed in place too."""
        if threading.get_ident() != self._thread:
            return
        instruction = Instruction(name, None, tuple(self._argument(a) for a in args), ())
        instruction.in_place = True
        self.program.instructions.append(instruction)

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

    def read_value(self, tensor, how):
        """A traced value read out as Python data: what the function does with it (a branch,
        a loop bound, a number in an attribute) cannot be replayed for other inputs."""
        if threading.get_ident() != self._thread:
            return
        slot = self._slots.get(id(tensor))
        if slot is None or self.program.slots[slot].kind == CONSTANT:
            return
        info = self.program.slots[slot]
        origin = (f"the result of {self._producer[slot]}" if slot in self._producer
                  else f"{info.kind} {info.name!r}")
        raise TypeError(
            f"jit.trace: the function reads %{slot} ({info.describe()}, {origin}) out as a "
            f"Python value with {how}; a traced program replays only tensor ops, so Python "
            f"control flow or numbers that depend on the data cannot be captured. Keep the "
            f"computation in tensor ops (autograd.where instead of if, a mask instead of a "
            f"loop bound), or run this function eagerly.")

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
                slot = self._saved_or_constant(Tensor(value, self.backend))
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
        return self._saved_or_constant(tensor)

    def _saved_or_constant(self, tensor):
        """A value from outside the ops: one an op's forward saved, or else a constant."""
        found = self._saved_by.get(id(tensor.data))
        if found is None:
            return self._constant(tensor)
        instruction, index = found
        slot = self._new_slot(RESULT, tensor)
        self._producer[slot] = f"{instruction.op} (saved for its backward)"
        instruction.saved += ((index, slot),)
        return slot

    def add_constant(self, tensor):
        """Number a tensor made outside the function as a constant before it is used."""
        self._constant(tensor)

    def _constant(self, tensor):
        if self.in_backward:
            raise RuntimeError(
                f"jit.compile_step: the backward pass used an array of shape "
                f"{tuple(tensor.shape)} made outside the ops (a backward rule that computes "
                f"on arrays, as abs, max and min do); a compiled step would replay it as a "
                f"constant. Use a differentiable formulation (x * x.sign() for abs, "
                f"logsumexp for max), or train eagerly.")
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


def _flattened(values):
    for value in values:
        if isinstance(value, (tuple, list)):
            yield from _flattened(value)
        else:
            yield value


def trace_with_output(fn, inputs, source=None, dynamic_batch=False):
    """Trace `fn(*inputs)`: the Traced program and the output of this first run. The
    program takes its name and parameter names from `source` (default: `fn`). With
    `dynamic_batch`, the batch size is symbolic (see dynamic.py)."""
    source = fn if source is None else source
    traced, output = _trace_once(fn, inputs, source)
    if dynamic_batch:
        traced = _with_dynamic_batch(traced, fn, inputs, source)
    return traced, output


def _with_dynamic_batch(traced, fn, inputs, source):
    """`traced` with a symbolic batch size, from a second trace at the batch size + 1; as
    it is, with the reason noted, if the function does not run at that batch size."""
    batched, batch = batched_inputs(inputs)
    if not batched:
        return traced
    grown_inputs = [grown(t) if i in batched else t for i, t in enumerate(inputs)]
    try:
        second, _ = _trace_once(fn, grown_inputs, source)
    except (ValueError, TypeError, IndexError, RuntimeError) as error:
        traced.fixed_batch_reason = f"the function does not run at batch {batch + 1}: {error}"
        return traced
    program = generalize(traced.program, second.program, batch)
    dynamic = Traced(program, traced.backend, traced.parameters, traced.constants)
    dynamic.example_batch = batch
    return dynamic


def _trace_once(fn, inputs, source):
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


def trace(fn, *example_inputs, dynamic_batch=True):
    """Run `fn(*example_inputs)` and record it as a `Traced` program: calling that replays
    the ops on new inputs of the same shapes and dtypes. `fn` is any callable (a Module
    too); its parameters are the tensors it uses that require grad, and stay shared with it.

    With `dynamic_batch` (the default) the first dimension of the inputs that share the
    first input's is the batch, and the program takes any batch size: `fn` runs a second
    time, at the batch size + 1, to find where the batch goes (an op that folds it into
    another dimension raises, naming the op). `dynamic_batch=False` fixes every shape."""
    return trace_with_output(fn, example_inputs, dynamic_batch=dynamic_batch)[0]


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
