"""`compile`: trace a function on its first call for each input signature, replay after."""

import collections
import contextlib
import functools

import backends

from .. import graph
from ..tensor import Tensor
from .tracer import trace_with_output


def compile(fn=None, *, backend=None, max_cache=8):
    """Decorator: the first call with a given signature (shapes, dtypes and backend of the
    Tensor arguments, values of the others) traces `fn`; later calls replay the program.
    The last `max_cache` programs are kept (least recently used dropped first).

    `backend` names the backend the program runs on: Tensor arguments are moved there and
    the function is traced with it as the default. Usable bare (`@compile`) or with
    arguments (`@compile(backend="numba", max_cache=8)`)."""
    if fn is None:
        return functools.partial(compile, backend=backend, max_cache=max_cache)
    if not isinstance(max_cache, int) or max_cache < 1:
        raise ValueError(f"jit.compile: max_cache must be a positive int, got {max_cache!r}")
    target = None if backend is None else backends.get(backend)
    programs = collections.OrderedDict()

    @functools.wraps(fn)
    def compiled(*args, **kwargs):
        if graph.tracing.tracer is not None:
            # Inside another trace: run the ops themselves, so that trace records them.
            return fn(*args, **kwargs)
        if target is not None:
            args = tuple(a.to(target) if isinstance(a, Tensor) else a for a in args)
        key = _signature(fn, args, kwargs)
        traced = programs.get(key)
        if traced is not None:
            programs.move_to_end(key)
            return traced(*[a for a in args if isinstance(a, Tensor)])
        tensors = [a for a in args if isinstance(a, Tensor)]

        def with_constants(*tensors):
            supply = iter(tensors)
            return fn(*[next(supply) if isinstance(a, Tensor) else a for a in args], **kwargs)

        with backends.use(target) if target is not None else contextlib.nullcontext():
            traced, output = trace_with_output(with_constants, tensors, source=fn)
        programs[key] = traced
        if len(programs) > max_cache:
            programs.popitem(last=False)
        return output

    compiled.programs = programs
    return compiled


def _signature(fn, args, kwargs):
    """The cache key of a call: Tensors by shape, dtype and backend, the rest by value."""
    key = [_key(fn, f"argument {i}", value) for i, value in enumerate(args)]
    for name, value in sorted(kwargs.items()):
        if isinstance(value, Tensor):
            raise TypeError(f"jit.compile({fn.__name__}): keyword argument {name!r} is a "
                            f"Tensor; pass Tensors positionally")
        key.append((name, _key(fn, f"keyword argument {name!r}", value)))
    return tuple(key)


def _key(fn, what, value):
    if isinstance(value, Tensor):
        return (tuple(value.shape), value.dtype, value.backend.name)
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"jit.compile({fn.__name__}): {what} is an unhashable "
                        f"{type(value).__name__}; pass Tensors, or hashable values that "
                        f"select a program (numbers, strings, tuples)") from None
    return ("value", type(value), value)
