"""`Traced`: a Program bound to a backend and to its parameters and constants, callable
like the function it was traced from."""

from .. import grad_mode, graph
from ..tensor import Tensor
from .replay import array_replay, graph_replay


class Traced:
    """A traced function. Calling it replays the program on inputs of the traced shapes and
    dtypes: straight on arrays when no gradient is wanted, through the ops (recording a
    graph) when one is. `parameters` are the very tensors the function used, so an
    optimiser step on them is seen by the next call."""

    def __init__(self, program, backend, parameters, constants):
        self.program = program
        self.backend = backend
        self.parameters = tuple(parameters)
        self.constants = tuple(constants)
        self.__name__ = program.name
        self._replay = None
        self._source = None

    def __call__(self, *inputs):
        if len(inputs) != len(self.program.inputs):
            raise TypeError(f"traced {self.__name__}: takes {len(self.program.inputs)} "
                            f"input(s), got {len(inputs)}")
        if graph.tracing.tracer is not None or (grad_mode._state.enabled and self._wants_grad(inputs)):
            for i, value in enumerate(inputs):
                self._check_input(i, value)
            return graph_replay(self, inputs)
        if self._replay is None:
            self._compile()
        return self._replay(inputs)

    def _wants_grad(self, inputs):
        return (any(isinstance(t, Tensor) and t.requires_grad for t in inputs)
                or any(p.requires_grad for p in self.parameters))

    def _compile(self):
        self._replay, self._source = array_replay(self, self._check_input)

    @property
    def code(self):
        """The Python source of the replay without a graph (fused kernels appear as calls)."""
        if self._source is None:
            self._compile()
        return self._source

    def _check_input(self, i, value):
        info = self.program.slots[self.program.inputs[i]]
        traced = f"{info.describe()} on backend {self.backend.name!r}"
        if not isinstance(value, Tensor):
            raise TypeError(f"traced {self.__name__}: input {i} is a {type(value).__name__}, "
                            f"but the program was traced for a Tensor {traced}")
        if value.backend is not self.backend:
            raise TypeError(f"traced {self.__name__}: input {i} is on backend "
                            f"{value.backend.name!r}, but the program was traced for "
                            f"{traced}; move it with .to({self.backend.name!r})")
        if tuple(value.shape) != info.shape:
            raise ValueError(f"traced {self.__name__}: input {i} has shape "
                             f"{tuple(value.shape)}, but the program was traced for {traced}; "
                             f"trace again for this shape, or use autograd.jit.compile, "
                             f"which traces once per input shape")
        if value.dtype != info.dtype:
            raise TypeError(f"traced {self.__name__}: input {i} has dtype {value.dtype}, but "
                            f"the program was traced for {traced}; convert it with "
                            f".astype({info.dtype!r}) or trace again")

    def save(self, path):
        """Write the program and its weights to one safetensors file (see `jit.load`)."""
        from .serialization import save

        save(self, path)

    def __str__(self):
        return str(self.program)

    def __repr__(self):
        return (f"<traced {self.__name__}: {len(self.program.instructions)} instructions, "
                f"{len(self.parameters)} parameters, backend {self.backend.name!r}>")
