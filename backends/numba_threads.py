"""Numba's parallel kernels called from several Python threads at once.

Numba runs `parallel=True` kernels on a threading layer chosen at the first launch: TBB or
OpenMP, which take concurrent launches, or its own "workqueue", which aborts the whole
interpreter ("Concurrent access has been detected", SIGABRT) when two threads launch at
once. Numba falls back to workqueue when neither TBB nor OpenMP loads, and
`NUMBA_THREADING_LAYER=workqueue` asks for it. On that layer every kernel call here takes
one process-wide lock: kernels from different threads then run one after another (each
still on every core) instead of killing the process. On a thread-safe layer calls go
straight to the kernel, with nothing added."""

import functools
import importlib
import threading

import numba
from numba.core.registry import CPUDispatcher

# Numba's names for a threading layer request, and the layers each may end up on, in the
# order Numba tries them (numba/np/ufunc/parallel.py).
_CANDIDATES = {
    "safe": ("tbb",),
    "threadsafe": ("tbb", "omp"),
    "forksafe": ("tbb", "workqueue"),
}
_THREAD_SAFE_LAYERS = ("tbb", "omp")

launch_lock = threading.Lock()
"""Held by every kernel call while the threading layer is workqueue."""


def _loads(layer):
    if layer == "workqueue":
        return True
    try:
        importlib.import_module(f"numba.np.ufunc.{layer}pool")
    except ImportError:  # a library of that layer (libtbb, libgomp) is missing
        return False
    return True


def threading_layer():
    """The layer Numba runs parallel kernels on: the one it chose if a kernel has run,
    else the one it will choose (the first of the requested candidates that loads)."""
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        pass
    requested = numba.config.THREADING_LAYER
    if requested in ("tbb", "omp", "workqueue"):
        return requested
    candidates = _CANDIDATES.get(requested, tuple(numba.config.THREADING_LAYER_PRIORITY))
    return next((layer for layer in candidates if _loads(layer)), "workqueue")


def is_thread_safe():
    """Whether two threads may launch parallel kernels at the same moment."""
    return threading_layer() in _THREAD_SAFE_LAYERS


def serialised(kernel):
    """`kernel`, called under `launch_lock`."""

    @functools.wraps(kernel)
    def call(*args, **kwargs):
        with launch_lock:
            return kernel(*args, **kwargs)

    return call


class SerialisedKernels:
    """A kernels module whose compiled functions are each called under `launch_lock`;
    every other attribute is the module's own."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if isinstance(value, CPUDispatcher):
            value = serialised(value)
        setattr(self, name, value)  # looked up once; later calls find it directly
        return value


def guard_kernels(module):
    """`module` itself on a thread-safe layer, else its kernels behind `launch_lock`."""
    return module if is_thread_safe() else SerialisedKernels(module)


def guard_launch(launch):
    """A fused kernel's launcher (or None), behind `launch_lock` unless the layer is
    thread-safe."""
    if launch is None or is_thread_safe():
        return launch
    return serialised(launch)
