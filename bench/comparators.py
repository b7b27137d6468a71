"""What a run compares: every pluggrad backend, hand-written NumPy (and, for elementwise
work, a hand-fused Numba kernel), and PyTorch on the CPU and on CUDA.

A comparator that cannot run here is kept with its reason, so the report lists it as
skipped rather than leaving it out.
"""

import importlib
from dataclasses import dataclass
from typing import Callable, Optional

import backends

# Families: suites build each comparator's step by family. The two hand-written ones are
# families of their own, with one member each.
PLUGGRAD = "pluggrad"
HAND_NUMPY = "hand-numpy"
HAND_NUMBA = "hand-numba"
TORCH = "torch"


@dataclass(frozen=True)
class Comparator:
    """One contender. `target` is the pluggrad backend name, the hand-written code's library
    ("numpy", "numba") or the torch device ("cpu", "cuda"). `synchronize` waits for queued
    device work (None on the CPU)."""

    name: str
    family: str
    target: str
    gpu: bool
    detail: str
    synchronize: Optional[Callable] = None

    def describe(self):
        return {"name": self.name, "family": self.family, "target": self.target,
                "gpu": self.gpu, "detail": self.detail}


def discover(backend_names=None):
    """(comparators that can run, [{"comparator", "reason"}] for those that cannot)."""
    found, skipped = [], []
    status = backends.available()
    for name in backend_names or list(status):
        state = status.get(name, f"unknown backend; registered: {', '.join(status)}")
        if state is True:
            backend = backends.get(name)
            device = str(backend.device)
            found.append(Comparator(name, PLUGGRAD, name, not device.lower().startswith("cpu"),
                                    f"pluggrad backend on {device}", backend.synchronize))
        else:
            skipped.append({"comparator": name, "reason": state})

    found.append(Comparator(HAND_NUMPY, HAND_NUMPY, "numpy", False,
                            "hand-written NumPy forward and backward"))
    numba, reason = _import("numba")
    if numba is None:
        skipped.append({"comparator": HAND_NUMBA, "reason": reason})
    else:
        found.append(Comparator(HAND_NUMBA, HAND_NUMBA, "numba", False,
                                f"hand-fused Numba kernel ({numba.get_num_threads()} threads)"))

    torch, reason = _import("torch")
    if torch is None:
        skipped.append({"comparator": "torch-cpu", "reason": reason})
        skipped.append({"comparator": "torch-cuda", "reason": reason})
        return found, skipped
    found.append(Comparator("torch-cpu", TORCH, "cpu", False,
                            f"PyTorch {torch.__version__} eager, "
                            f"{torch.get_num_threads()} threads"))
    if torch.cuda.is_available():
        found.append(Comparator("torch-cuda", TORCH, "cuda", True,
                                f"PyTorch {torch.__version__} on "
                                f"{torch.cuda.get_device_name(0)}", torch.cuda.synchronize))
    else:
        build = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        skipped.append({"comparator": "torch-cuda",
                        "reason": f"torch.cuda.is_available() is False (torch "
                                  f"{torch.__version__}, {build})"})
    return found, skipped


def _import(module):
    """(the module, None), or (None, why it cannot be imported)."""
    try:
        return importlib.import_module(module), None
    except ImportError as error:
        return None, f"{module} is not importable: {error}"
