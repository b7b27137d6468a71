"""`compile_step`: a whole training step, traced once and replayed as one static program.

    step = ag.jit.compile_step(model, loss_fn, optimizer)
    for x, y in batches:
        loss = step(x, y)

does what `optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward();
optimizer.step()` does. The first call runs that step for real while tracing the forward
pass and the backward pass (the backward rules are ops, so they are recorded like the
forward ones) into one program that returns the loss, the model's output and every
parameter's gradient. Later calls replay the program on arrays, with no Tensor graph built,
each run of elementwise instructions fused into one kernel on the Numba backend and each
value freed right after its last use, and then hand the gradients to the optimiser, whose
fused per-parameter updates run as they would eagerly (one pass over memory each on Numba).
The optimiser stays live: learning-rate schedules, its step counts and state_dict work as in
eager training. The first call also replays the program once on its own inputs and checks
that it gives the traced loss, output and gradients, so a change the trace could not see
raises there instead of training wrongly.

What a compiled step cannot capture, and says so when it meets it:
- Python control flow on the data (`if loss > 1`, `.item()`, `float(t)`, `.tolist()`):
  the trace would freeze one branch; it raises naming the value read.
- random draws (dropout in training mode): the replay would reuse one mask; it raises.
- in-place changes of traced values, or tensors moved between backends.
- backward rules that compute on arrays outside the ops (abs, max, min): it raises.
- inputs of another shape or dtype than the first call's: it raises; make another
  compile_step for them (a shorter last batch, say).
"""

import threading

from .. import grad_mode, graph
from ..gradients import grad
from ..tensor import Tensor
from .tracer import trace_with_output

_RANDOM_DRAWS = ("rand", "randn", "randint", "permutation")
# The primitives that backward rules call on arrays outside the ops (abs: sign; max and
# min: eq, astype, div, sum); recorded while the backward pass is traced.
_BACKWARD_PRIMITIVES = ("sign", "eq", "astype", "div", "sum")


def compile_step(model, loss_fn, optimizer):
    """A callable `step(x, y) -> loss` that trains `model` one step on a batch, as eager
    code would, traced on its first call and replayed after (see the module docstring)."""
    return CompiledStep(model, loss_fn, optimizer)


class CompiledStep:
    """One compiled training step. `traced` is the forward-and-backward program once the
    first call made it (print `traced.program` or `traced.code`); `output` is the model's
    output of the latest step, without a graph (for metrics)."""

    def __init__(self, model, loss_fn, optimizer):
        if not callable(model) or not callable(loss_fn):
            raise TypeError("compile_step: model and loss_fn must be callable")
        if not hasattr(optimizer, "param_groups") or not hasattr(optimizer, "step"):
            raise TypeError(f"compile_step: optimizer must be an optimiser (with "
                            f"param_groups and step()), got {type(optimizer).__name__}")
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.traced = None
        self.output = None
        self._trained = ()  # the parameters with a gradient, in the program's output order
        self._replay = None

    def __call__(self, x, y):
        if self.traced is None:
            return self._trace(x, y)
        self._check_inputs((x, y))
        loss, self.output, *grads = self._replay((x, y))
        self._update(grads)
        return loss

    # ---------------------------------------------------------------- the first call
    def _trace(self, x, y):
        for i, value in enumerate((x, y)):
            if not isinstance(value, Tensor):
                raise TypeError(f"compile_step: input {i} is a {type(value).__name__}; pass "
                                f"Tensors")
        parameters = [p for group in self.optimizer.param_groups for p in group["params"]]
        trained = []

        def forward_and_backward(x, y):
            output = self.model(x)
            loss = self.loss_fn(output, y)
            if not isinstance(loss, Tensor) or loss.size != 1:
                raise ValueError(f"compile_step: loss_fn must return a one-element Tensor, "
                                 f"got {_describe(loss)}")
            seed = Tensor(loss.backend.ones(loss.shape, loss.dtype), loss.backend)
            tracer = graph.tracing.tracer
            tracer.add_constant(seed)
            tracer.in_backward = True
            with _watched(x.backend, tracer):
                grads = grad(loss, parameters, grad_outputs=seed, allow_unused=True)
            tracer.in_backward = False
            trained.extend((p, g) for p, g in zip(parameters, grads) if g is not None)
            return (loss, output) + tuple(g for _, g in trained)

        with grad_mode.enable_grad(), _no_random_draws(x.backend):
            traced, (loss, output, *grads) = trace_with_output(
                forward_and_backward, (x, y), source=self.model)
        self._replay = traced._compile()
        _check_replay(self._replay((x, y)), (loss, output, *grads), x.backend)
        self.traced = traced
        self._trained = tuple(p for p, _ in trained)
        self.output = output.detach()
        self._update([g.detach() for g in grads])
        return loss.detach()

    # ---------------------------------------------------------------- every call
    def _update(self, grads):
        self.optimizer.zero_grad()
        for parameter, gradient in zip(self._trained, grads):
            parameter.grad = gradient
        self.optimizer.step()

    def _check_inputs(self, inputs):
        program = self.traced.program
        for i, (value, slot) in enumerate(zip(inputs, program.inputs)):
            info = program.slots[slot]
            if (isinstance(value, Tensor) and value.backend is self.traced.backend
                    and tuple(value.shape) == info.shape and value.dtype == info.dtype):
                continue
            got = (f"a {value.dtype}[{', '.join(map(str, value.shape))}] Tensor on backend "
                   f"{value.backend.name!r}" if isinstance(value, Tensor)
                   else f"a {type(value).__name__}")
            kind = ValueError if isinstance(value, Tensor) and value.dtype == info.dtype and (
                value.backend is self.traced.backend) else TypeError
            raise kind(f"compile_step: input {i} ({'xy'[i]}) is {got}, but the step was "
                       f"compiled for {info.describe()} on backend "
                       f"{self.traced.backend.name!r}; make another compile_step for these "
                       f"inputs (a shorter last batch, say), or convert them")


# How far a replay may be from the traced step it repeats: the same primitives in the same
# order, so only a fused kernel's or a parallel sum's rounding may differ.
REPLAY_TOLERANCE = 1e-4


def _check_replay(replayed, traced, backend):
    """Compare the first replay with the step it was traced from (the same inputs and
    parameters): anything the trace missed (an array changed in place outside the ops, a
    value computed outside them) shows up here rather than as wrong training later."""
    names = ["the loss", "the model's output"] + [f"gradient {i}" for i in
                                                  range(len(traced) - 2)]
    for name, got, expected in zip(names, replayed, traced):
        if 0 in expected.shape:
            continue
        difference = backend.item(backend.max(backend.abs(backend.sub(got.data,
                                                                      expected.data))))
        scale = backend.item(backend.max(backend.abs(expected.data)))
        if not difference <= REPLAY_TOLERANCE * scale + 1e-30:
            raise RuntimeError(
                f"jit.compile_step: replaying the traced step gives another value of {name} "
                f"than the step itself (largest difference {difference:.3g}, of values up to "
                f"{scale:.3g}): the model or loss computes something outside the ops that the "
                f"trace cannot see. Train eagerly, and report the model if it uses only "
                f"autograd ops.")


def _describe(value):
    if isinstance(value, Tensor):
        return f"a Tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


class _Patched:
    """Replaces methods of a backend instance for the length of a `with` block (another
    thread calling them gets the original: `make(name, original)` decides)."""

    def __init__(self, backend, names, make):
        self.backend = backend
        self.names = names
        self.make = make
        self.saved = {}

    def __enter__(self):
        for name in self.names:
            original = getattr(self.backend, name)
            self.saved[name] = self.backend.__dict__.get(name)
            setattr(self.backend, name, self.make(name, original))
        return self

    def __exit__(self, *exc):
        for name, previous in self.saved.items():
            if previous is None:
                delattr(self.backend, name)
            else:
                setattr(self.backend, name, previous)
        return False


def _watched(backend, tracer):
    """While the backward pass is traced: the primitives backward rules call on arrays are
    recorded, and `add_into` (a leaf's third gradient summed into its second, in place) is
    recorded as an in-place instruction."""

    def make(name, original):
        if name == "add_into":
            def add_into(dst, src):
                original(dst, src)
                tracer.record_in_place("add_into", (dst, src))

            return add_into

        def primitive(*args, **options):
            result = original(*args, **options)
            if not options:  # the rules pass arguments by position; others are internal
                tracer.record_backend_call(name, args, result)
            return result

        return primitive

    return _Patched(backend, _BACKWARD_PRIMITIVES + ("add_into",), make)


def _no_random_draws(backend):
    """While the step is traced, the backend's random draws raise (in this thread): a
    replay would reuse the draw of the first call, the same dropout mask every step."""
    thread = threading.get_ident()
    return _Patched(backend, _RANDOM_DRAWS, lambda name, original: _refusing(name, original,
                                                                             thread))


def _refusing(name, original, thread):
    def draw(*args, **kwargs):
        if threading.get_ident() != thread:
            return original(*args, **kwargs)
        raise RuntimeError(
            f"jit.compile_step: the step draws random numbers (backend.{name}: dropout in "
            f"training mode, or autograd.{name} in the model or loss); a compiled step would "
            f"replay the first call's draw every step. Put the model in eval mode "
            f"(model.eval()), remove the random draw, or train eagerly.")

    return draw
