"""Checking a loaded program before accepting it: every slot must be of a sane size, and
every instruction must produce exactly the shapes and dtypes its result slots declare.

A program file passes its checksum whenever whoever wrote it computed one, so a forged
file (`BroadcastTo` to 10^17 elements, a matrix product whose declared result does not
match its operands) must be refused by what the program says, before it ever runs: the
sizes are checked from the declarations alone, then each instruction is run once, in
order, through its op on stand-in inputs (views of one element, so no input is allocated)
and the loaded weights, and its results compared with its slots."""

import math

from .. import grad_mode
from ..tensor import Tensor
from .dynamic import is_dynamic, specialize
from .replay import graph_replay

MAX_SLOT_BYTES = 1 << 40
"""The largest value a slot may declare (1 TiB): more than any machine this runs on holds."""
_ITEM_BYTES = {"float16": 2, "float32": 4, "float64": 8, "int32": 4, "int64": 8, "bool": 1}


def check_slot_sizes(program):
    """ValueError for a slot that declares more than MAX_SLOT_BYTES (per sample, for a
    program of symbolic batch)."""
    if is_dynamic(program):
        program = specialize(program, 1)
    for slot, info in enumerate(program.slots):
        size = math.prod(info.shape) * _ITEM_BYTES[info.dtype]
        if size > MAX_SLOT_BYTES:
            raise ValueError(f"slot {slot} ({info.describe()}) would hold {size:.3g} bytes, "
                             f"more than the {MAX_SLOT_BYTES:.3g} a program may use")


def check_against_ops(traced):
    """Run the program once and raise ValueError at the first instruction whose results
    differ in number, shape or dtype from the slots it declares."""
    program, backend = traced.program, traced.backend
    if is_dynamic(program):  # checked at a batch of 2 (1 could hide a broadcast)
        program = specialize(program, 2)
    inputs = [_stand_in(program.slots[slot], backend) for slot in program.inputs]

    def check(instruction, results):
        if len(results) != len(instruction.outputs):
            raise ValueError(f"{instruction.op} gives {len(results)} result(s), the program "
                             f"declares {len(instruction.outputs)}")
        for slot, result in zip(instruction.outputs, results):
            info = program.slots[slot]
            if not isinstance(result, Tensor) or tuple(result.shape) != info.shape or (
                    result.dtype != info.dtype):
                found = (f"{result.dtype}[{', '.join(map(str, result.shape))}]"
                         if isinstance(result, Tensor) else type(result).__name__)
                raise ValueError(f"{instruction.op} gives {found} for slot {slot}, which "
                                 f"the program declares {info.describe()}")

    with grad_mode.no_grad():
        graph_replay(traced, program, inputs, check)


def _stand_in(info, backend):
    """An input of the slot's shape and dtype that takes no memory: one element, viewed
    at every position (1 for floats; 0 for integers, a valid index on any non-empty axis)."""
    one = backend.full((), 1 if info.dtype.startswith("float") else 0, info.dtype)
    return Tensor(backend.broadcast_to(one, info.shape), backend)
