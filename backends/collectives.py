"""How a backend's arrays travel between the processes of a job: MPI for host arrays, NCCL
for CuPy's device arrays.

A transport does in-place collectives on native arrays. `all_reduce` starts the reduction
and returns a request whose `wait()` makes its result usable (and whose `test()` moves it
on), so a caller can start several and keep computing while they run (data-parallel
training overlaps them with backward). `scale_into` writes an array, scaled, into (a slice
of) a reduction's buffer in one pass over memory: the copy and the division by the number
of processes at once. `buffer` makes the memory a caller keeps for reductions it repeats
(data-parallel training's gradient buckets), placed where the transport moves it fastest.
Which transport a backend gets is decided here, where the array libraries may be named,
so that `nn.distributed` stays free of them."""

import mmap

OPS = ("sum", "max")
HUGE_PAGE_BYTES = 2**21


def transport_for(backend, comm):
    """The transport for `backend`'s arrays between the processes of `comm` (an mpi4py
    communicator): NCCL on device memory for the cupy backend, MPI otherwise."""
    if backend.name == "cupy":
        return NcclTransport(comm)
    return MpiTransport(comm)


def place_process(backend, comm, cuda=None):
    """Choose the device this process of `comm` computes on, before it makes any array:
    for the cupy backend the GPU at the process's rank among the processes of its node
    (one process per GPU); host backends need nothing. `cuda` is `cupy.cuda` unless given."""
    if backend.name != "cupy":
        return
    if cuda is None:
        from cupy import cuda
    from mpi4py import MPI

    local_rank = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_rank()
    cuda.Device(local_rank % cuda.runtime.getDeviceCount()).use()


def _scale_into(xp, destination, source, scale):
    """destination = source * scale (zeros for a None source), in one pass over memory;
    `source` may be `destination` itself (scaled in place) or of another shape with as many
    elements."""
    if source is None:
        destination.fill(0)
    elif source is destination:
        xp.multiply(destination, scale, out=destination)
    else:
        xp.multiply(source.reshape(destination.shape), scale, out=destination)


def _huge_page_zeros(size, dtype):
    """A zeroed host array of `size` elements that starts on a 2 MiB boundary, in memory
    the kernel is asked to back with transparent huge pages (Linux; elsewhere an ordinary
    array).

    Why: MPI's transfers between the processes of a node are faster on fewer, larger
    pages. On 2 MiB pages instead of 4 KiB ones an Allreduce over 2 ranks (MPICH) took
    0.53x the time at 2 MiB of float32, 0.54x at 1 MiB and 0.79x at 64 KiB (0.77x at 2 MiB
    in the machine's slower periods, when every Allreduce took over twice as long). The
    mapping is private: a shared anonymous one is not eligible for huge pages. It costs up
    to one huge page of memory more than the array needs."""
    import numpy

    dtype = numpy.dtype(dtype)
    if not hasattr(mmap, "MADV_HUGEPAGE") or size == 0:
        return numpy.zeros(size, dtype)
    nbytes = size * dtype.itemsize
    length = -(-nbytes // HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES + HUGE_PAGE_BYTES
    memory = mmap.mmap(-1, length, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    start = -numpy.frombuffer(memory, numpy.uint8).ctypes.data % HUGE_PAGE_BYTES
    try:
        memory.madvise(mmap.MADV_HUGEPAGE, start, length - start)
    except OSError:
        pass  # a kernel without transparent huge pages: the array stays on 4 KiB pages
    return numpy.frombuffer(memory, dtype, size, start)


def _check_op(op):
    if op not in OPS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(OPS)}, got {op!r}")


class MpiTransport:
    """MPI collectives straight on host arrays (NumPy arrays, as the numpy and numba
    backends hold them): no copy is made for a contiguous array."""

    def __init__(self, comm):
        from mpi4py import MPI

        self.comm = comm
        self._ops = {"sum": MPI.SUM, "max": MPI.MAX}
        self._in_place = MPI.IN_PLACE

    def all_reduce(self, array, op="sum"):
        _check_op(op)
        _check_contiguous(array)
        return _MpiRequest(self.comm.Iallreduce(self._in_place, array, op=self._ops[op]))

    def buffer(self, size, dtype):
        """A zeroed 1-d host array for reductions repeated on the same memory, on huge
        pages where the kernel has them."""
        return _huge_page_zeros(size, dtype)

    def scale_into(self, destination, source, scale):
        import numpy

        _scale_into(numpy, destination, source, scale)

    def broadcast(self, array, root=0):
        _check_contiguous(array)
        self.comm.Bcast(array, root=root)


class _MpiRequest:
    """A started MPI collective. Without a progress thread MPI moves a non-blocking
    collective's data only inside MPI calls, so `test()` lets a caller drive it forward
    while it does other work; `wait()` ends it."""

    def __init__(self, request):
        self.request = request

    def test(self):
        return self.request.Test()

    def wait(self):
        self.request.Wait()


def _check_contiguous(array):
    if not array.flags.c_contiguous:
        raise ValueError(f"collective on an array of shape {array.shape}: MPI sends "
                         f"contiguous memory only; pass a contiguous copy")


class NcclTransport:
    """NCCL collectives on CuPy device arrays, never staged through the host.

    Rank 0 makes NCCL's unique id and MPI broadcasts it, so MPI only starts the job and NCCL
    moves the data. Each process uses its current GPU (see `place_process`). A reduction
    runs on a stream of its own, after the work already queued on the current stream (which
    produced the gradients); `wait()` makes the current stream wait for it on
    the device, so the host never blocks. `nccl` and `cuda` are `cupy.cuda.nccl` and
    `cupy.cuda` unless given (tests give stand-ins)."""

    def __init__(self, comm, nccl=None, cuda=None):
        if nccl is None or cuda is None:
            import cupy.cuda
            from cupy.cuda import nccl

            cuda = cupy.cuda
        self.nccl, self.cuda = nccl, cuda
        unique_id = nccl.get_unique_id() if comm.Get_rank() == 0 else None
        unique_id = comm.bcast(unique_id, root=0)
        self.comm = nccl.NcclCommunicator(comm.Get_size(), unique_id, comm.Get_rank())
        self.stream = cuda.Stream(non_blocking=True)
        self._ops = {"sum": nccl.NCCL_SUM, "max": nccl.NCCL_MAX}
        self._dtypes = {"float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32,
                        "float64": nccl.NCCL_FLOAT64, "int32": nccl.NCCL_INT32,
                        "int64": nccl.NCCL_INT64}

    def all_reduce(self, array, op="sum"):
        _check_op(op)
        self._after_current_stream()
        pointer = array.data.ptr
        self.comm.allReduce(pointer, pointer, array.size, self._nccl_dtype(array),
                            self._ops[op], self.stream.ptr)
        return _StreamRequest(self.cuda, self.stream)

    def buffer(self, size, dtype):
        """A zeroed 1-d device array on the current GPU."""
        import cupy

        return cupy.zeros(size, dtype)

    def scale_into(self, destination, source, scale):
        import cupy

        _scale_into(cupy, destination, source, scale)

    def broadcast(self, array, root=0):
        self._after_current_stream()
        self.comm.bcast(array.data.ptr, array.size, self._nccl_dtype(array), root,
                        self.stream.ptr)
        _StreamRequest(self.cuda, self.stream).wait()

    def _after_current_stream(self):
        self.stream.wait_event(self.cuda.get_current_stream().record())

    def _nccl_dtype(self, array):
        name = str(array.dtype)
        if name not in self._dtypes:
            raise TypeError(f"NCCL collective: dtype {name} is not supported; use one of "
                            f"{', '.join(self._dtypes)}")
        return self._dtypes[name]


class _StreamRequest:
    """A reduction queued on a stream; `wait()` orders the current stream after it."""

    def __init__(self, cuda, stream):
        self.cuda, self.done = cuda, stream.record()

    def test(self):
        return self.done.done

    def wait(self):
        self.cuda.get_current_stream().wait_event(self.done)
