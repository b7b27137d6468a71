"""Backend names, their factories, and the current default.

Factories are zero-argument callables returning a Backend. A factory that raises marks its
backend unusable, and `available()` reports the exception's message as the reason.
"""

import contextlib
import os
import sys
import threading
from importlib.metadata import entry_points

from .base import Backend, BackendUnavailable

ENVIRONMENT_VARIABLE = "AUTOGRAD_BACKEND"
ENTRY_POINT_GROUP = "pluggrad.backends"


def _numpy():
    from .numpy_backend import NumpyBackend

    return NumpyBackend()


def _numba():
    from .numba_backend import NumbaBackend

    return NumbaBackend()


def _cupy():
    from .cupy_backend import CupyBackend

    return CupyBackend()


_factories = {"numpy": _numpy, "numba": _numba, "cupy": _cupy}
_instances = {}
_failures = {}
_lock = threading.RLock()
_entry_points_loaded = False
_default = None
_seed = None


def _load_entry_points():
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for point in entry_points(group=ENTRY_POINT_GROUP):
        _factories.setdefault(point.name, _EntryPointFactory(point))


class _EntryPointFactory:
    """Loads an entry point's factory only when its backend is first asked for."""

    def __init__(self, point):
        self.point = point

    def __call__(self):
        return self.point.load()()


def register(name, factory):
    """Add (or replace) the backend `name`, built on first use by calling `factory()`."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"backends.register: name must be a non-empty string, got {name!r}")
    if not callable(factory):
        raise TypeError(f"backends.register({name!r}, ...): factory must be callable, "
                        f"got {type(factory).__name__}")
    with _lock:
        _factories[name] = factory
        _instances.pop(name, None)
        _failures.pop(name, None)


def get(name):
    """The Backend called `name`, created on first use; BackendUnavailable says why not."""
    if isinstance(name, Backend):
        return name
    with _lock:
        backend = _instances.get(name)
        if backend is not None:
            return backend
        _load_entry_points()
        if name not in _factories:
            raise ValueError(f"unknown backend {name!r}{_torch_hint(name)}; {_describe_all()}")
        if name in _failures:
            raise BackendUnavailable(f"backend {name!r} cannot be used: {_failures[name]}")
        try:
            backend = _factories[name]()
        except Exception as error:  # the reason is kept and reported, never hidden
            _failures[name] = str(error) or type(error).__name__
            raise BackendUnavailable(
                f"backend {name!r} cannot be used: {_failures[name]}") from error
        if not isinstance(backend, Backend):
            raise TypeError(f"the factory of backend {name!r} returned "
                            f"{type(backend).__name__}, not a backends.Backend")
        if backend.name != name:
            backend.name = name
        if _seed is not None:
            backend.seed(_seed)
        _instances[name] = backend
        return backend


def available():
    """{name: True} for each usable backend, {name: reason} for each that is not."""
    with _lock:
        _load_entry_points()
        names = list(_factories)
    result = {}
    for name in names:
        try:
            get(name)
            result[name] = True
        except BackendUnavailable:
            result[name] = _failures[name]
    return result


def instances():
    """The backends created so far (so `manual_seed` can reseed every one of them)."""
    with _lock:
        return list(_instances.values())


def manual_seed(seed):
    """Restart every backend's random stream from `seed`, those created later included."""
    global _seed
    with _lock:
        _seed = seed
        for backend in _instances.values():
            backend.seed(seed)


class _ThreadOverride(threading.local):
    """The `use` blocks open in this thread: each thread sees the process-wide
    default unless it opened a block itself, as grad mode is per thread."""

    def __init__(self):
        self.blocks = []  # (unique marker, Backend), innermost last


_override = _ThreadOverride()


def current():
    """The default Backend: the one `backend=None` means everywhere (in this thread, the
    innermost open `use` block's, else the process-wide one set by `set_default`)."""
    blocks = _override.blocks
    return blocks[-1][1] if blocks else _default


def set_default(name):
    """Make `name` (or a Backend) the default backend of the whole process (a thread inside
    a `use` block keeps that block's until it ends)."""
    global _default
    _default = get(name)
    return _default


@contextlib.contextmanager
def use(name):
    """Make `name` the default backend inside a `with` block, for this thread only. Blocks
    nest; each one, when it ends, removes only its own entry, so blocks that overlap
    without nesting (one left open in a generator) never leave a default stuck."""
    backend = get(name)
    block = (object(), backend)  # the object makes this block's entry unique
    _override.blocks.append(block)
    try:
        yield backend
    finally:
        _override.blocks.remove(block)


def _torch_hint(name):
    """For PyTorch's device names: which backend plays that part here."""
    kind = str(name).split(":")[0]
    if kind == "cpu":
        return ' (PyTorch\'s "cpu" is the "numpy" or "numba" backend here: x.to("numpy"))'
    if kind == "cuda":
        return ' (PyTorch\'s "cuda" is the "cupy" backend here: x.to("cupy"))'
    return ""


def _describe_all():
    parts = []
    for name, state in available().items():
        parts.append(f"{name}: available" if state is True else f"{name}: {state}")
    return "backends: " + "; ".join(parts)


class BackendChoiceError(ImportError):
    """AUTOGRAD_BACKEND names a backend that cannot be used. Uncaught, it prints as one line
    (see _select_from_environment): it is a setting to fix, not a bug to trace."""


def _select_from_environment():
    name = os.environ.get(ENVIRONMENT_VARIABLE, "numpy") or "numpy"
    try:
        set_default(name)
    except (ValueError, BackendUnavailable):
        reason = available().get(name, f"unknown backend {name!r}")
        message = (f"{ENVIRONMENT_VARIABLE}={name!r} cannot be used: {reason}{_torch_hint(name)}."
                   f" Set it to an available one ({_describe_all()}).")
        sys.excepthook = _one_line_for(BackendChoiceError, sys.excepthook)
        raise BackendChoiceError(" ".join(message.split())) from None


def _one_line_for(kind, previous_hook):
    """An excepthook that prints an uncaught `kind` as "ImportError: message" alone, and
    hands every other exception to `previous_hook`."""

    def hook(exc_type, value, traceback):
        if issubclass(exc_type, kind):
            print(f"ImportError: {value}", file=sys.stderr)
        else:
            previous_hook(exc_type, value, traceback)

    return hook
