"""`DistributedDataParallel`: one replica of the model per process, each trained on its own
shard of every batch, with the gradients averaged over the processes before each optimiser
step, so that every replica takes the same step (PyTorch's DistributedDataParallel).

How the averaging overlaps backward: the parameters are grouped into buckets of about
`bucket_mb` megabytes, in the reverse of their registration order (roughly the order their
gradients finish in). Each parameter has a post-accumulate-grad hook; when the last
gradient of a bucket is complete, the bucket's gradients are packed into one buffer (divided
by the number of ranks on the way) and a non-blocking all-reduce is started on it, while
backward goes on with the earlier layers (each later hook also lets MPI move it on).
When the last bucket has been started, the hook waits for them all and gives every
parameter the global mean as its `.grad`, so `loss.backward()` returns with the gradients
ready and any optimiser works unchanged.

Buckets are always started in the same order on every rank (a bucket that is ready early
waits for the ones before it), because MPI and NCCL match collectives by their order.

Unused parameters (PyTorch's `find_unused_parameters`): forward walks the graph of the
output to find the parameters it does not reach. Their bucket slots are filled at once
(with the gradient they hold from accumulation, or zeros), so no rank waits for a gradient
that never comes; a small all-reduce of "has a gradient" flags, started at forward, tells
which parameters no rank used, and those keep `.grad` None as they would alone."""

from contextlib import contextmanager

import autograd as ag
from autograd.graph import reachable_leaves

from . import distributed
from .module import Module


class DistributedDataParallel(Module):
    """Wrap `module` for data-parallel training across the processes of the job.

    At construction every rank checks that all ranks have the same parameter names,
    shapes and dtypes (a ValueError naming the first difference otherwise) and takes rank
    0's parameter values. In a job of one process it only calls `module`."""

    def __init__(self, module, bucket_mb=25):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got "
                            f"{type(module).__name__}")
        if isinstance(bucket_mb, bool) or not isinstance(bucket_mb, int | float) \
                or not bucket_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_mb must be a positive number "
                             f"of megabytes, got {bucket_mb!r}")
        self.module = module
        distributed.init()
        object.__setattr__(self, "_reducer", None)
        object.__setattr__(self, "_syncing", True)
        if distributed.world_size() > 1:
            named = list(module.named_parameters())
            _check_same_parameters(named + list(module.named_buffers()))
            for _, tensor in named + list(module.named_buffers()):
                distributed.broadcast(tensor, src=0)
            trained = [(name, param) for name, param in named if param.requires_grad]
            if trained:
                object.__setattr__(self, "_reducer", _Reducer(trained, bucket_mb * 2**20))

    def forward(self, *args, **kwargs):
        output = self.module(*args, **kwargs)
        if self._reducer is not None and self._syncing and ag.is_grad_enabled():
            self._reducer.prepare(_reached_parameters(output))
        return output

    @contextmanager
    def no_sync(self):
        """Within this block, backward only accumulates each rank's own gradients (for
        gradient accumulation); the first backward after it averages all that was
        accumulated."""
        previous = self._syncing
        object.__setattr__(self, "_syncing", False)
        try:
            yield
        finally:
            object.__setattr__(self, "_syncing", previous)

    def average_gradients(self):
        """Average the gradients the parameters hold now over all ranks, blocking: for
        gradients made without this wrapper's forward (its backward does this itself)."""
        if self._reducer is not None:  # with nothing left to wait for, this finishes too
            self._reducer.prepare(reached=set())

    def state_dict(self):
        """The wrapped module's state, under its own names (no "module." prefix), so that a
        checkpoint loads into the model with or without the wrapper."""
        return self.module.state_dict()

    def load_state_dict(self, state, strict=True):
        return self.module.load_state_dict(state, strict)


def _check_same_parameters(named):
    """Raise on every rank, with the same message, if any rank's parameters differ from rank
    0's in name, shape or dtype."""
    mine = [(name, tuple(p.shape), str(p.dtype)) for name, p in named]
    everyone = distributed.all_gather(mine)
    reference = everyone[0]
    for rank, theirs in enumerate(everyone[1:], start=1):
        for index in range(max(len(reference), len(theirs))):
            ours = reference[index] if index < len(reference) else None
            other = theirs[index] if index < len(theirs) else None
            if ours == other:
                continue
            if ours is None or other is None or ours[0] != other[0]:
                raise ValueError(
                    f"DistributedDataParallel: the models differ across ranks: parameter "
                    f"{index} is {_describe(ours)} on rank 0 but {_describe(other)} on rank "
                    f"{rank}; every rank must build the same model")
            raise ValueError(
                f"DistributedDataParallel: the models differ across ranks: parameter "
                f"{ours[0]!r} has shape {ours[1]}, dtype {ours[2]} on rank 0 but shape "
                f"{other[1]}, dtype {other[2]} on rank {rank}; every rank must build the "
                f"same model")


def _describe(entry):
    return "missing" if entry is None else f"{entry[0]!r} (shape {entry[1]}, dtype {entry[2]})"


def _reached_parameters(output):
    """The ids of the leaf tensors that the graph of `output` (a tensor, or tuples, lists
    and dicts of them) reaches: the parameters that will get a gradient from it."""
    roots = []
    _collect_tensors(output, roots)
    return {id(leaf) for leaf in reachable_leaves(roots)}


def _collect_tensors(output, found):
    if isinstance(output, ag.Tensor):
        found.append(output)
    elif isinstance(output, tuple | list):
        for item in output:
            _collect_tensors(item, found)
    elif isinstance(output, dict):
        for item in output.values():
            _collect_tensors(item, found)



class _Bucket:
    """Parameters of one backend and dtype whose gradients travel in one buffer, kept from
    step to step: the averaged gradients are views of it (as PyTorch's
    gradient_as_bucket_view), valid until the next step's backward refills it."""

    def __init__(self, params):
        self.params = params
        self.backend = params[0].backend
        self.buffer = self.backend.zeros((sum(p.size for p in params),), str(params[0].dtype))
        self.waiting = 0  # gradients still to come in this step
        self.request = None  # the all-reduce in flight


class _Reducer:
    """The averaging of one step: buckets, their hooks, and what has been sent."""

    def __init__(self, named, bucket_bytes):
        self.names = {id(p): name for name, p in named}
        self.params = [p for _, p in named]
        self.buckets = _make_buckets(self.params[::-1], bucket_bytes)
        self.bucket_of = {id(p): bucket for bucket in self.buckets for p in bucket.params}
        self.size = distributed.world_size()
        self.active = False
        for param in self.params:
            param.register_post_accumulate_grad_hook(self._on_gradient)

    def prepare(self, reached):
        """Start a step: parameters not in `reached` are ready now, the others when their
        gradient is complete."""
        if self.active:  # a forward whose backward never ran: close its collectives
            self.finish()
        self.active = True
        self.next_bucket = 0
        used = [id(p) in reached or p.grad is not None for p in self.params]
        backend = self.params[0].backend
        self.usage = ag.tensor([1.0 if u else 0.0 for u in used], backend=backend)
        self.usage_request = distributed.transport(backend).all_reduce(self.usage.data, "max")
        for bucket in self.buckets:
            bucket.waiting = sum(id(p) in reached for p in bucket.params)
            bucket.request = None
        self._start_ready_buckets()

    def _on_gradient(self, param):
        if not self.active:
            return  # inside no_sync(), or a backward not through this wrapper's forward
        bucket = self.bucket_of[id(param)]
        if bucket.request is not None or bucket.waiting == 0:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self.names[id(param)]!r} got a second "
                f"gradient after its bucket was sent; call backward once per forward (use "
                f"retain_graph on a single combined loss), or accumulate under no_sync()")
        bucket.waiting -= 1
        self._start_ready_buckets()
        if self.active:  # let MPI move the started buckets on while backward goes on
            for started in self.buckets[:self.next_bucket]:
                started.request.test()

    def _start_ready_buckets(self):
        """Start the ready buckets in order; after the last one, finish the step. Each
        gradient is divided by the number of ranks as it is packed, so the sum the
        all-reduce makes is the mean."""
        while self.next_bucket < len(self.buckets):
            bucket = self.buckets[self.next_bucket]
            if bucket.waiting:
                return
            transport = distributed.transport(bucket.backend)
            transport.pack(bucket.buffer, [(None if p.grad is None else p.grad.data, p.size)
                                           for p in bucket.params], 1 / self.size)
            bucket.request = transport.all_reduce(bucket.buffer, "sum")
            self.next_bucket += 1
        self.finish()

    def finish(self):
        """Wait for every bucket and give each parameter its averaged gradient (a view of
        its bucket's buffer); a parameter no rank used keeps its `.grad`."""
        if not self.active:
            return
        self.active = False
        self.usage_request.wait()
        used = self.usage.tolist()
        index = {id(p): i for i, p in enumerate(self.params)}
        for bucket in self.buckets:
            if bucket.request is None:  # not started: an unfinished step, nothing to keep
                continue
            bucket.request.wait()
            bucket.request = None
            backend, offset = bucket.backend, 0
            for param in bucket.params:
                count = param.size
                if used[index[id(param)]]:
                    values = backend.getitem(bucket.buffer, slice(offset, offset + count))
                    param.grad = ag.Tensor(backend.reshape(values, param.shape), backend)
                offset += count


def _make_buckets(params, bucket_bytes):
    """Consecutive parameters of one backend and dtype, up to `bucket_bytes` per bucket (a
    larger parameter gets a bucket of its own)."""
    buckets, current, size = [], [], 0
    for param in params:
        nbytes = param.data.nbytes
        if current and (size + nbytes > bucket_bytes or param.backend is not current[0].backend
                        or param.dtype != current[0].dtype):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(param)
        size += nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets
