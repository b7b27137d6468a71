"""Finding the runs of elementwise instructions a backend can fuse into one kernel.

A run is a sequence of consecutive instructions, each an elementwise op whose result has the
run's shape. Fused, it reads its inputs once and writes only the values used after it,
instead of a pass over memory per op. The run goes to the backend as an `ElementwiseRun`
(plain data: shapes, dtype names and backend primitive names), and `Backend.fuse_elementwise`
returns a kernel or None, in which case the instructions run one by one.

Only memory-bound ops fuse: arithmetic, selections and comparisons. Transcendental functions
(exp, log, tanh, sigmoid, erf) end a run: NumPy's SIMD loops compute them faster than a
compiled scalar loop without a vector math library.
"""

from ..op import PREVIOUS_STEP
from ..tensor import _SCALARS
from .ops import FUNCTIONS
from .program import Ref

# The backend primitive each fusable op is, by instruction name (from the op table).
_ELEMENTWISE = {name: op.primitive for name, op in FUNCTIONS.items() if op.fusable}
_PRIMITIVES = {"lt", "le", "gt", "ge", "eq", "ne", "where", "astype"}


class ElementwiseRun:
    """A run of elementwise steps, for `Backend.fuse_elementwise`.

    - `shape`: the shape of every step's result;
    - `inputs`: (shape, dtype name) of each array the kernel takes, in call order; each
      broadcasts to `shape`;
    - `steps`: (primitive, operands, dtype name) each, where primitive is a Backend method
      name (add sub mul div neg abs maximum minimum sqrt sign where astype lt le gt ge eq ne)
      and each operand is ("input", k), ("step", j) for an earlier step, or ("scalar", value)
      for a Python number; `astype` converts its one operand to the step's dtype;
    - `outputs`: the steps whose results the kernel returns, in order.

    The kernel is called with the input arrays and returns a tuple of the output arrays.
    """

    def __init__(self, shape, inputs, steps, outputs):
        self.shape = tuple(shape)
        self.inputs = tuple(inputs)
        self.steps = tuple(steps)
        self.outputs = tuple(outputs)

    def __repr__(self):
        return (f"ElementwiseRun(shape={self.shape}, inputs={self.inputs}, "
                f"steps={self.steps}, outputs={self.outputs})")


class FusedRun:
    """A run the backend fused: which instructions it replaces, and the kernel's inputs
    and outputs as slots."""

    def __init__(self, length, kernel, input_slots, output_slots):
        self.length = length
        self.kernel = kernel
        self.input_slots = input_slots
        self.output_slots = output_slots


def fuse(program, instructions, backend):
    """{index of a run's first instruction in `instructions`: FusedRun} for every run of at
    least two instructions that `backend` fused."""
    fused = {}
    start = 0
    while start < len(instructions):
        length = _run_length(program, instructions, start)
        if length >= 2:
            run = _fused_run(program, instructions, start, length, backend)
            if run is not None:
                fused[start] = run
        start += max(length, 1)
    return fused


def _run_length(program, instructions, start):
    """How many instructions from `start` form a run (0 if the first cannot fuse)."""
    if instructions[start].in_place:
        return 0
    shape = program.slots[instructions[start].outputs[0]].shape
    length = 0
    for instruction in instructions[start:]:
        if (_steps_of(instruction) is None
                or program.slots[instruction.outputs[0]].shape != shape):
            break
        length += 1
    return length


def _steps_of(instruction):
    """An elementwise instruction as steps (primitive, arguments), or None if it does not
    fuse. `PREVIOUS_STEP` among the arguments stands for the step before."""
    op, args = instruction.op, instruction.args
    if instruction.saved or instruction.in_place:
        return None
    if instruction.fn is None:
        if op not in _PRIMITIVES:
            return None
    elif FUNCTIONS.get(op) is not instruction.fn:
        return None
    elif hasattr(instruction.fn, "fused_steps"):
        return instruction.fn.fused_steps(*args) or None
    elif op in _ELEMENTWISE:
        op = _ELEMENTWISE[op]
    else:
        return None
    if op == "astype":
        return [("astype", args[:1])]
    return [(op, args)]


def _fused_run(program, instructions, start, length, backend):
    run = instructions[start:start + length]
    step_of_slot = {}
    input_index = {}
    steps = []

    def operand(arg):
        if arg is PREVIOUS_STEP:
            return ("step", len(steps) - 1)
        if isinstance(arg, Ref):
            if arg.slot in step_of_slot:
                return ("step", step_of_slot[arg.slot])
            if arg.slot not in input_index:
                input_index[arg.slot] = len(input_index)
            return ("input", input_index[arg.slot])
        if type(arg) in _SCALARS:
            return ("scalar", arg)
        return None

    for instruction in run:
        dtype = program.slots[instruction.outputs[0]].dtype
        for primitive, args in _steps_of(instruction):
            operands = tuple(operand(a) for a in args)
            if None in operands:
                return None
            steps.append((primitive, operands, dtype))
        step_of_slot[instruction.outputs[0]] = len(steps) - 1

    used_later = {ref.slot for ref in program.output_refs()}
    for instruction in instructions[start + length:]:
        used_later.update(ref.slot for ref in instruction.refs())
    output_slots = [i.outputs[0] for i in run if i.outputs[0] in used_later]
    input_slots = sorted(input_index, key=input_index.get)
    spec = ElementwiseRun(
        program.slots[run[0].outputs[0]].shape,
        [(program.slots[s].shape, program.slots[s].dtype) for s in input_slots],
        steps, [step_of_slot[s] for s in output_slots])
    kernel = backend.fuse_elementwise(spec)
    if kernel is None:
        return None
    return FusedRun(length, kernel, input_slots, output_slots)
