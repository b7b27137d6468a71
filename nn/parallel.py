"""`DistributedDataParallel`: one replica of the model per process, each trained on its own
shard of every batch, with the gradients averaged over the processes before each optimiser
step, so that every replica takes the same step (PyTorch's DistributedDataParallel).

How the averaging overlaps backward: the parameters are grouped into buckets of about
`bucket_mb` megabytes, in the reverse of their registration order (roughly the order their
gradients finish in). Each bucket has one buffer, kept from step to step, with a slot per
parameter; the transport makes it (on the host, on huge pages, where MPI moves it in about
half the time). Each parameter has a post-accumulate-grad hook, which writes the gradient into
its slot divided by the number of ranks (one pass over memory, while the gradient is still
in cache); when the last gradient of a bucket is in, a non-blocking all-reduce sums the
buffer in place, while backward goes on with the earlier layers (each later hook also lets
MPI move it on). When the last bucket has been started, the hook waits for them all and
gives every parameter a view of its slot, now the global mean, as its `.grad` (PyTorch's
gradient_as_bucket_view: nothing is copied back out), so `loss.backward()` returns with the
gradients ready and any optimiser works unchanged. A gradient that is still that view when
it is averaged again is scaled in place, with no copy.

Buckets are always started in the same order on every rank (a bucket that is ready early
waits for the ones before it), because MPI and NCCL match collectives by their order.

Unused parameters (PyTorch's `find_unused_parameters`): forward walks the graph of the
output to find the parameters it does not reach. Their slots are filled when their bucket
is started (with the gradient they hold from accumulation, or zeros), so no rank waits for
a gradient that never comes; the last bucket also carries a "has a gradient" flag per
parameter, whose sum tells which parameters no rank used, and those keep `.grad` None as
they would alone."""

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



class _Slot:
    """One parameter's place in its bucket: `flat`, a 1-d view of the bucket's buffer that
    its gradient is written into (divided by the number of ranks), and `grad`, a tensor
    viewing the same memory in the parameter's shape, which becomes its `.grad` once the
    all-reduce has made it the global mean (PyTorch's gradient_as_bucket_view): the mean
    is never copied out of the bucket."""

    def __init__(self, param, index, backend, flat):
        self.param = param
        self.index = index  # the parameter's place in the usage flags
        self.flat = flat
        self.shaped = backend.reshape(flat, param.shape)
        self.grad = ag.Tensor(self.shaped, backend)
        self.filled = False  # written into the bucket in this step

    def holds_its_view(self):
        """Whether the parameter's `.grad` is still this slot's view (a step's mean that
        nothing replaced since): averaging it again needs no copy, only a scaling in
        place."""
        grad = self.param.grad
        return grad is self.grad and grad.data is self.shaped

    def view_of_the_mean(self):
        """The tensor to give the parameter as `.grad`: this slot's view, made anew if its
        `data` was replaced since (the old tensor keeps what it was given)."""
        if self.grad.data is not self.shaped:
            self.grad = ag.Tensor(self.shaped, self.grad.backend)
        return self.grad


class _Bucket:
    """Parameters of one backend and dtype whose gradients travel in one buffer, kept from
    step to step. The buffer holds their gradients one after another and, in the bucket
    sent last, `flags` more elements: a 1 for each parameter that had a gradient on this
    rank, so that the sum the all-reduce makes there says which parameters no rank used,
    without a collective of its own."""

    def __init__(self, params, first_index, flags=0):
        self.backend = params[0].backend
        self.transport = distributed.transport(self.backend)
        self.dtype = str(params[0].dtype)
        total = sum(p.size for p in params)
        self.buffer = self.transport.buffer(total + flags, self.dtype)
        self.gradients = self.backend.getitem(self.buffer, slice(0, total))
        self.flags = self.backend.getitem(self.buffer, slice(total, total + flags)) \
            if flags else None
        self.slots, offset = [], 0
        for index, param in enumerate(params, start=first_index):
            flat = self.backend.getitem(self.buffer, slice(offset, offset + param.size))
            self.slots.append(_Slot(param, index, self.backend, flat))
            offset += param.size
        self.waiting = 0  # gradients still to come in this step
        self.request = None  # the all-reduce in flight


class _Reducer:
    """The averaging of one step: buckets, their hooks, and what has been sent."""

    def __init__(self, named, bucket_bytes):
        self.names = {id(p): name for name, p in named}
        self.buckets = _make_buckets([p for _, p in named][::-1], bucket_bytes)
        self.slot_of = {id(slot.param): (bucket, slot)
                        for bucket in self.buckets for slot in bucket.slots}
        self.scale = 1 / distributed.world_size()
        self.has_gradient = [False] * len(self.slot_of)
        self.active = False
        for _, param in named:
            param.register_post_accumulate_grad_hook(self._on_gradient)

    def prepare(self, reached):
        """Start a step: parameters not in `reached` are ready now, the others when their
        gradient is complete."""
        if self.active:  # a forward whose backward never ran: close its collectives
            self.finish()
        self.active = True
        self.next_bucket = 0
        for bucket in self.buckets:
            bucket.request = None
            bucket.waiting = 0
            for slot in bucket.slots:
                slot.filled = False
                bucket.waiting += id(slot.param) in reached
        self._start_ready_buckets()

    def _on_gradient(self, param):
        if not self.active:
            return  # inside no_sync(), or a backward not through this wrapper's forward
        bucket, slot = self.slot_of[id(param)]
        if bucket.request is not None or bucket.waiting == 0 or slot.filled:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self.names[id(param)]!r} got a second "
                f"gradient in one step, after it was handed to the all-reduce; call "
                f"backward once per forward (use retain_graph on a single combined loss), "
                f"or accumulate under no_sync()")
        self._fill(bucket, slot)  # now, while the gradient is still in cache
        bucket.waiting -= 1
        self._start_ready_buckets()
        if self.active:  # let MPI move the started buckets on while backward goes on
            for started in self.buckets[:self.next_bucket]:
                started.request.test()

    def _fill(self, bucket, slot):
        """Write the parameter's gradient (zeros without one), divided by the number of
        ranks, into its slot: the sum the all-reduce makes is then the mean."""
        grad = slot.param.grad
        if grad is None:
            source = None
        elif slot.holds_its_view():
            source = slot.flat
        else:
            source = grad.data
        bucket.transport.scale_into(slot.flat, source, self.scale)
        self.has_gradient[slot.index] = grad is not None
        slot.filled = True

    def _start_ready_buckets(self):
        """Start the ready buckets in order; after the last one, finish the step."""
        while self.next_bucket < len(self.buckets):
            bucket = self.buckets[self.next_bucket]
            if bucket.waiting:
                return
            self._fill_the_rest(bucket)
            if bucket.flags is not None:
                bucket.backend.copy_into(bucket.flags, bucket.backend.asarray(
                    self.has_gradient, dtype=bucket.dtype))
            bucket.request = bucket.transport.all_reduce(bucket.buffer, "sum")
            self.next_bucket += 1
        self.finish()

    def _fill_the_rest(self, bucket):
        """Fill the slots no hook filled: the parameters backward does not reach. When
        none was filled and every one still holds its view (averaging gradients that are
        already in the bucket), the whole bucket is scaled in place in one call."""
        rest = [slot for slot in bucket.slots if not slot.filled]
        if len(rest) == len(bucket.slots) and all(slot.holds_its_view() for slot in rest):
            bucket.transport.scale_into(bucket.gradients, bucket.gradients, self.scale)
            for slot in rest:
                self.has_gradient[slot.index] = slot.filled = True
            return
        for slot in rest:
            self._fill(bucket, slot)

    def finish(self):
        """Wait for every bucket and give each parameter its averaged gradient (a view of
        its bucket's buffer); a parameter no rank had a gradient for keeps `.grad` None. A
        step whose buckets were not all sent (a forward without backward) only completes
        the collectives it started, and leaves every `.grad` as it was."""
        if not self.active:
            return
        self.active = False
        for bucket in self.buckets[:self.next_bucket]:
            bucket.request.wait()
            bucket.request = None
        if self.next_bucket < len(self.buckets):
            return
        last = self.buckets[-1]
        used = last.backend.tolist(last.flags)
        for bucket in self.buckets:
            for slot in bucket.slots:
                if used[slot.index]:
                    slot.param.grad = slot.view_of_the_mean()


def _make_buckets(params, bucket_bytes):
    """Consecutive parameters of one backend and dtype, up to `bucket_bytes` per bucket (a
    larger parameter gets a bucket of its own); the last bucket also carries the usage
    flags, one per parameter."""
    groups, current, size = [], [], 0
    for param in params:
        nbytes = param.data.nbytes
        if current and (size + nbytes > bucket_bytes or param.backend is not current[0].backend
                        or param.dtype != current[0].dtype):
            groups.append(current)
            current, size = [], 0
        current.append(param)
        size += nbytes
    if current:
        groups.append(current)
    buckets, first = [], 0
    for number, group in enumerate(groups):
        flags = len(params) if number == len(groups) - 1 else 0
        buckets.append(_Bucket(group, first, flags))
        first += len(group)
    return buckets
