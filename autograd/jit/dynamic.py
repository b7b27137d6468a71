"""A symbolic batch dimension: one traced program for every batch size.

`trace(fn, x)` runs `fn` at the example's batch size B and once more at B + 1 (the example
with its first row repeated), and compares the two programs. A slot whose first dimension
is B in one and B + 1 in the other has a symbolic batch dimension (`None` in its shape); an
op attribute that is B in one and B + 1 in the other (a reshape's target shape) holds
`BATCH`. Anything else that differs depends on the batch in a way no program of symbolic
batch can express (a reshape that folds the batch into another dimension, a constant of
the batch's size, a number computed from it): tracing says which op does it. A replay
substitutes the batch size of its inputs (`specialize`), so everything downstream sees the
same fixed-shape program as before.
"""

from .program import Instruction, Program, Ref


class _Batch:
    """The batch size in an op attribute (a reshape's target shape)."""

    __slots__ = ()

    def __repr__(self):
        return "batch"

    def __reduce__(self):
        return "BATCH"


BATCH = _Batch()


def batched_inputs(inputs):
    """The indices of the example inputs that carry the batch (those whose first dimension
    is the first input's), and the batch size; ([], None) when no input has a dimension."""
    sized = [i for i, t in enumerate(inputs) if t.ndim >= 1]
    if not sized:
        return [], None
    batch = inputs[sized[0]].shape[0]
    return [i for i in sized if inputs[i].shape[0] == batch], batch


def grown(tensor):
    """`tensor` with its first row repeated at the end: the same data at batch size + 1."""
    from ..tensor import Tensor

    backend = tensor.backend
    data = backend.concat([tensor.data, backend.getitem(tensor.data, slice(0, 1))], 0)
    return Tensor(data, backend, requires_grad=tensor.requires_grad)


def generalize(first, second, batch):
    """The program of symbolic batch that `first` (traced at `batch`) and `second` (at
    `batch + 1`) are instances of. Raises ValueError naming the op where the batch is
    used other than as a leading dimension."""
    producer = {slot: i for i in first.instructions for slot in i.produced()}

    def fail(what):
        raise ValueError(f"jit.trace(dynamic_batch=True): {what}; a program of any batch size "
                         f"cannot express that. Keep the batch as the leading dimension, or "
                         f"trace with dynamic_batch=False for a program of the traced shapes.")

    if (len(first.slots) != len(second.slots)
            or len(first.instructions) != len(second.instructions)):
        fail(f"{first.name} records different ops at batch {batch} and {batch + 1} (Python "
             f"control flow on the shapes)")
    program = Program(first.name)
    for slot, (a, b) in enumerate(zip(first.slots, second.slots)):
        if (a.kind, a.dtype, a.name) != (b.kind, b.dtype, b.name):
            fail(f"{first.name} records different values at batch {batch} and {batch + 1}")
        shape = a.shape
        if a.shape != b.shape:
            if not (len(a.shape) == len(b.shape) and a.shape[1:] == b.shape[1:]
                    and a.shape[0] == batch and b.shape[0] == batch + 1):
                origin = (f"{producer[slot]!r}" if slot in producer
                          else f"%{slot} ({a.kind})")
                fail(f"{origin} has shape {a.shape} at batch {batch} and {b.shape} "
                     f"at batch {batch + 1}: the op folds the batch into another dimension")
            if a.kind in ("constant", "parameter"):
                fail(f"the {a.kind} %{slot} {a.name!r} has the batch's size {a.shape} (made "
                     f"inside the function from the batch size)")
            shape = (None,) + a.shape[1:]
        program.add_slot(a.kind, shape, a.dtype, a.name)
    for one, other in zip(first.instructions, second.instructions):
        if (one.op, one.fn, one.outputs, one.multiple) != (other.op, other.fn, other.outputs,
                                                            other.multiple):
            fail(f"{first.name} records {one!r} at batch {batch} but {other!r} at batch "
                 f"{batch + 1}")
        args = tuple(_merged(a, b, batch, one, fail) for a, b in zip(one.args, other.args))
        program.instructions.append(_copy(one, args))
    program.output = first.output
    return program


def _merged(a, b, batch, instruction, fail):
    if isinstance(a, Ref) or a == b and type(a) is type(b):
        return a
    if isinstance(a, (tuple, list)) and type(a) is type(b) and len(a) == len(b):
        return type(a)(_merged(x, y, batch, instruction, fail) for x, y in zip(a, b))
    if type(a) is int and a == batch and b == batch + 1:
        return BATCH
    fail(f"{instruction!r} takes {a!r} at batch {batch} and {b!r} at batch {batch + 1}: a "
         f"value computed from the batch size other than the size itself")
    return None


def specialize(program, batch):
    """`program` with every symbolic batch dimension and `BATCH` made `batch`."""
    concrete = Program(program.name)
    for info in program.slots:
        shape = info.shape if not info.shape or info.shape[0] is not None else (
            (batch,) + info.shape[1:])
        concrete.add_slot(info.kind, shape, info.dtype, info.name)
    for instruction in program.instructions:
        concrete.instructions.append(
            _copy(instruction, tuple(_substituted(a, batch) for a in instruction.args)))
    concrete.output = program.output
    return concrete


def is_dynamic(program):
    return any(program.slots[s].shape[:1] == (None,) for s in program.inputs)


def _substituted(value, batch):
    if value is BATCH:
        return batch
    if isinstance(value, (tuple, list)):
        return type(value)(_substituted(v, batch) for v in value)
    return value


def _copy(instruction, args):
    copy = Instruction(instruction.op, instruction.fn, args, instruction.outputs,
                       instruction.multiple)
    copy.saved, copy.in_place = instruction.saved, instruction.in_place
    return copy
