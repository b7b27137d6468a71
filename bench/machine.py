"""What the figures were measured on: the machine, its threads, BLAS, GPU and library
versions, and two reference figures of the machine itself (memory bandwidth, BLAS peak).

Figures from different machines are not comparable, so every results file carries this.
"""

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys

import numpy

from .timing import measure

_LIBRARIES = ("pluggrad", "numpy", "numba", "llvmlite", "cupy", "torch", "matplotlib",
              "threadpoolctl")


def describe():
    """The machine as a dict: CPU, cores, threads each library uses, BLAS, GPU, OS."""
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "threads": _threads(),
        "blas": _blas(),
        "gpu": _gpu(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }


def versions():
    """Installed version of each library the benchmark touches (None when absent), and the
    git commit the code was at."""
    found = {}
    for name in _LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    found["git_commit"] = _git_commit()
    return found


def available_memory_bytes():
    """Physical memory not in use right now (what a large sweep may allocate)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_bandwidth(budget):
    """GB/s of a 256 MiB float32 copy (bytes read plus bytes written): NumPy's copy on one
    thread and, when Numba is importable, a parallel copy on every Numba thread."""
    n = 64 * 2**20
    src = numpy.ones(n, dtype=numpy.float32)
    dst = numpy.empty_like(src)
    moved = 2 * src.nbytes / 1e9
    figures = {"numpy_copy": moved / measure(lambda: numpy.copyto(dst, src), budget).median}
    try:
        from .kernels import parallel_copy
    except ImportError as error:
        figures["parallel_copy_skipped"] = f"numba is not importable: {error}"
    else:
        figures["numba_parallel_copy"] = moved / measure(lambda: parallel_copy(dst, src),
                                                         budget).median
    figures["best"] = max(v for v in figures.values() if isinstance(v, float))
    return figures


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _threads():
    threads = {}
    try:
        import numba
    except ImportError:
        threads["numba"] = None
    else:
        threads["numba"] = numba.get_num_threads()
    if "torch" in sys.modules:
        threads["torch"] = sys.modules["torch"].get_num_threads()
    threads["NUMBA_NUM_THREADS"] = os.environ.get("NUMBA_NUM_THREADS")
    threads["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS")
    return threads


def _blas():
    """Thread pools as threadpoolctl sees them (BLAS and OpenMP, with their threads), or
    NumPy's build configuration when threadpoolctl is missing."""
    try:
        import threadpoolctl
    except ImportError:
        config = numpy.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return [{"source": "numpy.show_config", "name": blas.get("name"),
                 "version": blas.get("version"), "num_threads": None}]
    return [{"source": "threadpoolctl", "name": pool.get("internal_api"),
             "version": pool.get("version"), "num_threads": pool.get("num_threads"),
             "library": os.path.basename(pool.get("filepath", ""))}
            for pool in threadpoolctl.threadpool_info()]


def _gpu():
    """Each NVIDIA GPU's name, driver and memory, or None without nvidia-smi."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        output = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
             "--format=csv,noheader"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        return [{"error": f"nvidia-smi failed: {error}"}]
    gpus = []
    for line in output.stdout.strip().splitlines():
        name, driver, memory = (part.strip() for part in line.split(","))
        gpus.append({"name": name, "driver": driver, "memory": memory})
    return gpus


def _memory_gib():
    try:
        return round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _git_commit():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True,
                               text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+uncommitted changes" if dirty else "")
