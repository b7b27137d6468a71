"""`Program`: a traced function as a flat list of instructions over numbered slots.

Every value the function computed or read has a slot: an input, a parameter (a tensor that
requires grad, shared with the function's owner), a constant, or the result of an
instruction. An instruction names its op and lists its arguments: `Ref`s to slots and the
op's attributes (axes, shapes, scalars) as plain values. A Program holds no arrays, so it
prints, compares and serialises as data; `Traced` binds it to a backend and to values.
"""

import inspect

INPUT, PARAMETER, CONSTANT, RESULT = "input", "parameter", "constant", "result"


class Ref:
    """An instruction's argument read from a slot: as a Tensor, or as its raw array where the
    op takes one (`where`'s condition, an index array, a clip bound)."""

    __slots__ = ("slot", "as_array")

    def __init__(self, slot, as_array=False):
        self.slot = slot
        self.as_array = as_array

    def __eq__(self, other):
        return (isinstance(other, Ref) and self.slot == other.slot
                and self.as_array == other.as_array)

    def __hash__(self):
        return hash((self.slot, self.as_array))

    def __repr__(self):
        return f"%{self.slot}" + (".data" if self.as_array else "")


class Slot:
    """What one slot holds: its kind, shape, dtype name and, for inputs, parameters and
    constants, a name."""

    __slots__ = ("kind", "shape", "dtype", "name")

    def __init__(self, kind, shape, dtype, name=None):
        self.kind = kind
        self.shape = tuple(shape)
        self.dtype = str(dtype)
        self.name = name

    def __eq__(self, other):
        return isinstance(other, Slot) and all(
            getattr(self, a) == getattr(other, a) for a in self.__slots__)

    def describe(self):
        """`float32[batch, 2]`: the dtype and shape (`batch`: the symbolic batch size)."""
        return f"{self.dtype}[{', '.join('batch' if n is None else str(n) for n in self.shape)}]"


class Instruction:
    """One op applied to slots: `outputs = op(*args)`. `fn` is the op's Function, or None
    for a backend primitive recorded outside the graph (a comparison, sign, argmax).

    `saved` lists (index, slot) pairs: values the op's forward saved for its backward that
    are neither its inputs nor its outputs (cross-entropy's one-hot target), which a traced
    backward pass reads. The replay takes them from the forward's context."""

    __slots__ = ("op", "fn", "args", "outputs", "multiple", "saved", "in_place")

    def __init__(self, op, fn, args, outputs, multiple=False):
        self.op = op
        self.fn = fn
        self.args = tuple(args)
        self.outputs = tuple(outputs)
        self.multiple = multiple  # the op returned a tuple, even of one value
        self.saved = ()
        self.in_place = False  # a primitive that changes its first argument, with no output

    def produced(self):
        """Every slot this instruction writes: its outputs, its saved values, and the
        argument an in-place primitive changes."""
        changed = (self.args[0].slot,) if self.in_place else ()
        return self.outputs + tuple(slot for _, slot in self.saved) + changed

    def __eq__(self, other):
        return isinstance(other, Instruction) and all(
            getattr(self, a) == getattr(other, a) for a in ("op", "args", "outputs",
                                                            "multiple", "saved", "in_place"))

    def refs(self):
        """Every slot this instruction reads."""
        return list(refs_in(self.args))

    def __repr__(self):
        names = _argument_names(self.fn)
        parts = []
        for i, arg in enumerate(self.args):
            name = names[i] if i < len(names) else None
            if name is None or next(refs_in(arg), None) is not None:
                parts.append(_show(arg))
            else:
                parts.append(f"{name}={_show(arg)}")
        if self.in_place:
            return f"{self.op}({', '.join(parts)})  # in place"
        targets = ", ".join(f"%{s}" for s in self.outputs)
        if self.saved:
            targets += " (saving " + ", ".join(f"%{s}" for _, s in self.saved) + ")"
        return f"{targets} = {self.op}({', '.join(parts)})"


class Program:
    """A traced function: slots, instructions, and which slots it returns."""

    def __init__(self, name="traced"):
        self.name = name
        self.slots = []
        self.inputs = []
        self.parameters = []
        self.constants = []
        self.instructions = []
        self.output = None  # a Ref, or a tuple/list nesting Refs

    def add_slot(self, kind, shape, dtype, name=None):
        slot = len(self.slots)
        self.slots.append(Slot(kind, shape, dtype, name))
        if kind == INPUT:
            self.inputs.append(slot)
        elif kind == PARAMETER:
            self.parameters.append(slot)
        elif kind == CONSTANT:
            self.constants.append(slot)
        return slot

    def output_refs(self):
        return list(refs_in(self.output))

    def live_instructions(self):
        """The instructions the outputs depend on, in order: the rest computed values the
        function never returned (a print, a branch on a value), which replay can skip."""
        needed = {ref.slot for ref in self.output_refs()}
        live = []
        for instruction in reversed(self.instructions):
            if needed.intersection(instruction.produced()):
                live.append(instruction)
                needed.update(ref.slot for ref in instruction.refs())
        live.reverse()
        return live

    def __eq__(self, other):
        return isinstance(other, Program) and all(
            getattr(self, a) == getattr(other, a) for a in (
                "slots", "inputs", "parameters", "constants", "instructions", "output"))

    def __str__(self):
        def declare(slot):
            info = self.slots[slot]
            return f"%{slot}: {info.describe()}"

        lines = [f"program {self.name}({', '.join(declare(s) for s in self.inputs)}):"]
        for kind, slots in ((PARAMETER, self.parameters), (CONSTANT, self.constants)):
            for slot in slots:
                lines.append(f"    {declare(slot)} = {kind} {self.slots[slot].name!r}")
        for instruction in self.instructions:
            shapes = ", ".join(self.slots[s].describe() for s in instruction.outputs)
            lines.append(f"    {instruction!r}" + (f"  # {shapes}" if shapes else ""))
        lines.append(f"    return {_show(self.output)}")
        return "\n".join(lines)

    __repr__ = __str__


def refs_in(value):
    """The Refs in an argument, looking inside tuples and lists (an index tuple)."""
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from refs_in(item)


def _show(value):
    if isinstance(value, tuple) and len(value) == 1:
        return f"({_show(value[0])},)"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(str(value))
    return repr(value)


def _argument_names(fn):
    """The names of a Function's forward arguments after `ctx` (attributes print by name)."""
    if fn is None:
        return ()
    parameters = list(inspect.signature(fn.forward).parameters.values())[1:]
    return tuple(p.name for p in parameters if p.kind is not p.VAR_POSITIONAL)
