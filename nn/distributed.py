"""Several processes training one model: which process this one is, and collectives on
tensors between all of them, on MPI (mpi4py's COMM_WORLD); on the cupy backend the data
goes through NCCL instead (see backends.collectives).

    nn.distributed.init()      # started by `mpiexec -n 4 python train.py`: joins the job
    nn.distributed.rank(), nn.distributed.world_size()

A program started without an MPI launcher (plain `python train.py`), or with one process,
is a job of one: `init()` does not even import mpi4py, and every collective returns at once
with its input unchanged, so the same script runs alone with no MPI installed.

Under a launcher, `init()` also makes an uncaught exception on any rank end the whole job
(MPI Abort) with that rank and its error printed, rather than leaving the other ranks
waiting forever in their next collective."""

import os
import sys
import time

import backends

# Set by the launchers of MPICH (Hydra), Open MPI, PMIx-based ones (Slurm's srun) and
# MVAPICH: the number of processes when they say it, else only that there is a launcher.
_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_LAUNCHER_VARIABLES = _LAUNCHER_SIZE_VARIABLES + ("PMIX_RANK",)
REDUCE_OPS = ("sum", "mean", "max")
_SECONDS_TO_FORWARD_OUTPUT = 1.0


class _Job:
    """The world this process belongs to: `comm` is None in a job of one."""

    def __init__(self, comm=None):
        self.comm = comm
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()
        self.transports = {}

    def transport(self, backend):
        """The transport for `backend`'s arrays, made on first use (NCCL's setup is itself
        a collective, which every rank reaches at the same first use)."""
        transport = self.transports.get(backend.name)
        if transport is None:
            transport = self.transports[backend.name] = backends.transport_for(backend,
                                                                               self.comm)
        return transport


_job = None
_SINGLE = _Job()


def init():
    """Join the job this process was launched in; calling it again does nothing.

    Without an MPI launcher this process is the whole job. Under one, mpi4py's COMM_WORLD
    is the job, and mpi4py must be installed (pip install "pluggrad[mpi]"). On the cupy
    backend each process then takes the GPU of its rank on its node: call init() before
    making tensors (with AUTOGRAD_BACKEND=cupy, or after `backends.set_default("cupy")`)."""
    global _job
    if _job is not None:
        return
    comm = _world_communicator()
    _job = _Job(comm) if comm is not None and comm.Get_size() > 1 else _SINGLE
    if _job.comm is not None:
        _abort_job_on_uncaught_error(_job)
        backends.place_process(backends.current(), comm)


def _world_communicator():
    if not any(name in os.environ for name in _LAUNCHER_VARIABLES):
        return None
    sizes = [os.environ[name] for name in _LAUNCHER_SIZE_VARIABLES if name in os.environ]
    if sizes and sizes[0] == "1":
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError(
            f"nn.distributed.init: this process was started by an MPI launcher with "
            f"{sizes[0] if sizes else 'several'} processes, but mpi4py is not installed; "
            f'pip install "pluggrad[mpi]", or run the script with python alone') from None
    return MPI.COMM_WORLD


def _abort_job_on_uncaught_error(job):
    """Chain a sys.excepthook that prints the error under this rank's name and aborts the
    job: the other ranks may be inside a collective that would otherwise never end."""
    previous = sys.excepthook

    def abort(kind, error, traceback):
        sys.stderr.write(f"nn.distributed: rank {job.rank} of {job.size} failed with "
                         f"{kind.__name__}: {error}; aborting the job\n")
        previous(kind, error, traceback)
        sys.stderr.flush()
        sys.stdout.flush()
        # The launcher forwards a rank's output through pipes, and an abort tears them
        # down at once: give it a moment to pass the message on first.
        time.sleep(_SECONDS_TO_FORWARD_OUTPUT)
        job.comm.Abort(1)

    sys.excepthook = abort


def is_initialized():
    """Whether `init()` has run."""
    return _job is not None


def _current():
    return _SINGLE if _job is None else _job


def rank():
    """This process's number in the job, from 0 (0 before `init()` and when alone)."""
    return _current().rank


def world_size():
    """The number of processes in the job (1 before `init()` and when alone)."""
    return _current().size


def all_reduce(tensor, op="sum"):
    """Combine `tensor` across all ranks, in place, and return it: the element-wise sum,
    mean or max. Every rank must call it with a tensor of the same shape and dtype."""
    if op not in REDUCE_OPS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(REDUCE_OPS)}, "
                         f"got {op!r}")
    job = _current()
    if job.comm is None:
        return tensor
    job.transport(tensor.backend).all_reduce(tensor.data, "max" if op == "max" else "sum") \
        .wait()
    if op == "mean":
        _scale_in_place(tensor.data, tensor.backend, 1 / job.size)
    return tensor


def _scale_in_place(array, backend, factor):
    """Multiply a native array by `factor` in place."""
    backend.copy_into(array, backend.mul(array, factor))


def broadcast(tensor, src=0):
    """Overwrite `tensor` with rank `src`'s, in place, on every rank, and return it."""
    job = _current()
    if not 0 <= src < job.size:
        raise ValueError(f"broadcast: src must be a rank from 0 to {job.size - 1}, "
                         f"got {src!r}")
    if job.comm is not None:
        job.transport(tensor.backend).broadcast(tensor.data, src)
    return tensor


def barrier():
    """Wait until every rank has reached this call."""
    job = _current()
    if job.comm is not None:
        job.comm.Barrier()


def all_gather(value):
    """A list with every rank's `value`, in rank order: for small things such as metrics
    (numbers, strings, small tensors; they travel pickled)."""
    job = _current()
    if job.comm is None:
        return [value]
    return job.comm.allgather(value)


def transport(backend):
    """The collective transport for `backend`'s arrays (None when alone): what
    DistributedDataParallel sends gradients through."""
    job = _current()
    return None if job.comm is None else job.transport(backend)
