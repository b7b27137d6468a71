"""`Traced`: a Program bound to a backend and to its parameters and constants, callable
like the function it was traced from."""

import collections

from .. import grad_mode, graph
from ..tensor import Tensor
from .dynamic import is_dynamic, specialize
from .replay import array_replay, graph_replay

# How many batch sizes of a program of symbolic batch keep their generated replay.
KEPT_BATCH_SIZES = 8


class Traced:
    """A traced function. Calling it replays the program on inputs of the traced shapes and
    dtypes: straight on arrays when no gradient is wanted, through the ops (recording a
    graph) when one is. `parameters` are the very tensors the function used, so an
    optimiser step on them is seen by the next call.

    A program of symbolic batch (`batch` in its shapes) is made concrete for the batch size
    of each call's inputs, and the replays of the last few batch sizes are kept."""

    def __init__(self, program, backend, parameters, constants):
        self.program = program
        self.backend = backend
        self.parameters = tuple(parameters)
        self.constants = tuple(constants)
        self.__name__ = program.name
        self.fixed_batch_reason = None  # why a dynamic-batch trace kept the batch fixed
        self.example_batch = None  # the batch size traced, for a program of symbolic batch
        self._replay = None
        self._source = None
        self._batched = [i for i, s in enumerate(program.inputs)
                         if program.slots[s].shape[:1] == (None,)]
        self._by_batch = collections.OrderedDict()  # batch -> [program, replay or None]

    def __call__(self, *inputs):
        if len(inputs) != len(self.program.inputs):
            raise TypeError(f"traced {self.__name__}: takes {len(self.program.inputs)} "
                            f"input(s), got {len(inputs)}")
        if not self._batched:
            program, replay = self.program, self._replay
        else:
            program, replay = self._for_batch(inputs)
        if graph.tracing.tracer is not None or (grad_mode._state.enabled
                                                and self._wants_grad(inputs)):
            for i, value in enumerate(inputs):
                self._check_input(i, value, program if self._batched else None)
            return graph_replay(self, program, inputs)
        if replay is None:
            replay = self._compile(program)
        return replay(inputs)

    def _for_batch(self, inputs):
        """[concrete program, its replay or None] for the batch size of `inputs`. The
        replay checks every input against its concrete shapes (a batch size that differs
        between inputs included), so the common call only reads the first one's."""
        first = inputs[self._batched[0]]
        if type(first) is not Tensor or not first.data.shape:
            self._check_input(self._batched[0], first)
        batch = first.data.shape[0]
        entry = self._by_batch.get(batch)
        return entry if entry is not None else self._entry(batch)

    def _entry(self, batch):
        entry = self._by_batch.get(batch)
        if entry is None:
            entry = self._by_batch[batch] = [specialize(self.program, batch), None]
            if len(self._by_batch) > KEPT_BATCH_SIZES:
                self._by_batch.popitem(last=False)
        return entry

    def _wants_grad(self, inputs):
        return (any(isinstance(t, Tensor) and t.requires_grad for t in inputs)
                or any(p.requires_grad for p in self.parameters))

    def _compile(self, program=None):
        """The replay without a graph of `program` (default: this one, of fixed shapes)."""
        program = self.program if program is None else program
        check = self._check_input if program is self.program else (
            lambda i, value: self._check_input(i, value, program))
        replay, source = array_replay(self, program, check)
        if program is self.program:
            self._replay, self._source = replay, source
        else:
            entry = self._by_batch[program.slots[program.inputs[self._batched[0]]].shape[0]]
            entry[1] = replay
            self._source = source
        return replay

    @property
    def dynamic_batch(self):
        """Whether the program takes any batch size."""
        return is_dynamic(self.program)

    @property
    def code(self):
        """The Python source of the latest replay without a graph (fused kernels appear as
        calls); for a program of symbolic batch, that of the last batch size replayed."""
        if self._source is None:
            self._compile(self._entry(self.example_batch or 1)[0] if self._batched else None)
        return self._source

    def _check_input(self, i, value, concrete=None):
        """Raise the error for input `i` not matching the program; `concrete`, a program
        made for one batch size, also checks the batch size against the call's."""
        info = self.program.slots[self.program.inputs[i]]
        traced = f"{info.describe()} on backend {self.backend.name!r}"
        if not isinstance(value, Tensor):
            raise TypeError(f"traced {self.__name__}: input {i} is a {type(value).__name__}, "
                            f"but the program was traced for a Tensor {traced}")
        if value.backend is not self.backend:
            raise TypeError(f"traced {self.__name__}: input {i} is on backend "
                            f"{value.backend.name!r}, but the program was traced for "
                            f"{traced}; move it with .to({self.backend.name!r})")
        shape = tuple(value.shape)
        if len(shape) != len(info.shape) or any(
                n is not None and n != m for n, m in zip(info.shape, shape)):
            fixed = f" (the batch is fixed: {self.fixed_batch_reason})" if (
                self.fixed_batch_reason) else ""
            raise ValueError(f"traced {self.__name__}: input {i} has shape "
                             f"{shape}, but the program was traced for {traced}{fixed}; "
                             f"trace again for this shape, or use autograd.jit.compile, "
                             f"which traces once per input shape")
        if value.dtype != info.dtype:
            raise TypeError(f"traced {self.__name__}: input {i} has dtype {value.dtype}, but "
                            f"the program was traced for {traced}; convert it with "
                            f".astype({info.dtype!r}) or trace again")
        if concrete is not None and shape != concrete.slots[concrete.inputs[i]].shape:
            first = self._batched[0]
            raise ValueError(f"traced {self.__name__}: inputs {first} and {i} have batch "
                             f"sizes {concrete.slots[concrete.inputs[first]].shape[0]} and "
                             f"{shape[0]}; the inputs of one call share the batch size")

    def save(self, path):
        """Write the program and its weights to one safetensors file (see `jit.load`)."""
        from .serialization import save

        save(self, path)

    def __str__(self):
        return str(self.program)

    def __repr__(self):
        return (f"<traced {self.__name__}: {len(self.program.instructions)} instructions, "
                f"{len(self.parameters)} parameters, backend {self.backend.name!r}>")
