"""Where arrays live and how they are computed.

A backend is chosen by name: `numpy` (CPU), `numba` (every CPU core, compiled kernels) or
`cupy` (CUDA GPU), plus any added with `register` or through the `pluggrad.backends`
entry-point group. `AUTOGRAD_BACKEND` picks the default when this package is imported.
"""

__distribution__ = "pluggrad"  # what `autograd` and `nn` check: see family.py

from .base import Backend, BackendUnavailable
from .collectives import place_process, transport_for
from .family import require_pluggrad
from .registry import available, current, get, instances, manual_seed, register, set_default, use

__all__ = [
    "Backend",
    "BackendUnavailable",
    "available",
    "current",
    "get",
    "instances",
    "manual_seed",
    "place_process",
    "register",
    "require_pluggrad",
    "set_default",
    "transport_for",
    "use",
]

from .registry import _select_from_environment  # noqa: E402

_select_from_environment()
del _select_from_environment
