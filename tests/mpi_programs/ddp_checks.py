"""Checks of data-parallel training that need several processes, run by
tests/test_distributed.py as `mpiexec -n 2 python tests/mpi_programs/ddp_checks.py CHECK`.

Each check raises (and so aborts the job with a non-zero status) when it fails, and rank 0
prints one line per passed check."""

import sys

import autograd as ag
import nn
from nn import distributed
from nn.parallel import DistributedDataParallel

TOLERANCE = 1e-10
STEPS, BATCH = 4, 6  # 4 steps; each rank trains on 6 samples, one process on 12


def build_model(seed, hidden=8):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, hidden), nn.Tanh(), nn.Linear(hidden, 6), nn.Tanh(),
                         nn.Linear(6, 3)).to("float64")


def samples():
    ag.manual_seed(1234)
    inputs = ag.randn(STEPS * 2 * BATCH, 5, dtype=ag.float64)
    targets = ag.randn(STEPS * 2 * BATCH, 3, dtype=ag.float64)
    return inputs, targets


def train(model, optimizer, inputs, targets, micro_batches=1, wrapper=None):
    """STEPS optimiser steps, each over `micro_batches` backward passes of the batch."""
    size = len(inputs) // STEPS
    for step in range(STEPS):
        batch = slice(step * size, (step + 1) * size)
        x, y = inputs[batch], targets[batch]
        part = size // micro_batches
        for micro in range(micro_batches):
            piece = slice(micro * part, (micro + 1) * part)
            last = micro == micro_batches - 1
            with (wrapper.no_sync() if wrapper is not None and not last else _nothing()):
                loss = nn.functional.mse_loss(model(x[piece]), y[piece]) / micro_batches
                loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return [p.numpy() for p in model.parameters()]


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def this_ranks_samples(inputs, targets):
    """Rank r's half of every step's 2 * BATCH samples."""
    rank = distributed.rank()
    rows = [step * 2 * BATCH + rank * BATCH + i for step in range(STEPS) for i in range(BATCH)]
    index = ag.tensor(rows, dtype=ag.int64)
    return inputs[index], targets[index]


def check_equivalence(optimizer_name, make_optimizer, micro_batches, no_sync=True):
    """Without `no_sync`, every micro-batch's backward averages, and the next one adds its
    gradient to that average (the view of the bucket the wrapper left as `.grad`)."""
    inputs, targets = samples()
    # Each rank starts from different weights: the wrapper must give them all rank 0's.
    model = build_model(seed=distributed.rank())
    ddp = DistributedDataParallel(model, bucket_mb=0.0005)  # several buckets
    mine = train(ddp, make_optimizer(ddp.parameters()), *this_ranks_samples(inputs, targets),
                 micro_batches=micro_batches, wrapper=ddp if no_sync else None)
    alone = build_model(seed=0)
    reference = train(alone, make_optimizer(alone.parameters()), inputs, targets)
    worst = max(abs(a - b).max() for a, b in zip(mine, reference))
    if not worst <= TOLERANCE:
        raise AssertionError(f"{optimizer_name}: 2 ranks differ from one process by {worst}")
    gathered = distributed.all_gather([p.tolist() for p in mine])
    if gathered[0] != gathered[1]:
        raise AssertionError(f"{optimizer_name}: the ranks' parameters differ")
    report(f"equivalent {optimizer_name} micro_batches={micro_batches} max_diff={worst:.1e}")


def check_average_gradients():
    """Gradients made without the wrapper's forward are averaged on request; averaging the
    mean again (gradients that are still views of the buckets, scaled in place) changes
    nothing; a parameter no rank has a gradient for keeps None."""
    model = build_model(seed=0)
    ddp = DistributedDataParallel(model, bucket_mb=0.0005)
    inputs, targets = this_ranks_samples(*samples())
    nn.functional.mse_loss(model(inputs), targets).backward()  # not through the wrapper
    model[4].bias.grad = None
    local = [None if p.grad is None else p.grad.numpy() for p in model.parameters()]
    everyone = distributed.all_gather(local)
    expected = [None if a is None else (a + b) / 2 for a, b in zip(*everyone)]
    for _ in range(2):
        ddp.average_gradients()
        for p, mean in zip(model.parameters(), expected):
            if mean is None:
                if p.grad is not None:
                    raise AssertionError("a parameter without gradients got one")
            elif not abs(p.grad.numpy() - mean).max() <= TOLERANCE:
                raise AssertionError("average_gradients is not the mean over ranks")
    report("average_gradients: the mean over ranks, unchanged when averaged again")


def check_collectives():
    rank = distributed.rank()
    values = ag.tensor([1.0 + rank, 10.0 * rank], dtype=ag.float64)
    expected = {"sum": [3.0, 10.0], "mean": [1.5, 5.0], "max": [2.0, 10.0]}
    for op, result in expected.items():
        reduced = distributed.all_reduce(values.detach().clone(), op=op).tolist()
        if reduced != result:
            raise AssertionError(f"all_reduce {op}: {reduced}, expected {result}")
    if distributed.broadcast(values.detach().clone(), src=1).tolist() != [2.0, 10.0]:
        raise AssertionError("broadcast from rank 1")
    if distributed.all_gather({"rank": rank}) != [{"rank": 0}, {"rank": 1}]:
        raise AssertionError("all_gather")
    distributed.barrier()
    report("collectives: all_reduce sum/mean/max, broadcast, all_gather, barrier")


def check_overlap():
    """The first bucket's all-reduce must start before the first layer's weight gradient
    (the last one backward computes) exists."""
    model = build_model(seed=0, hidden=64)
    ddp = DistributedDataParallel(model, bucket_mb=0.001)
    events, recording = [], [False]
    transport = distributed.transport(model[0].weight.backend)
    send = transport.all_reduce

    def logged_all_reduce(array, op="sum"):
        if recording[0]:
            events.append("all-reduce started")
        return send(array, op)

    transport.all_reduce = logged_all_reduce
    model[0].weight.register_hook(lambda grad: events.append("last gradient computed"))
    inputs, targets = samples()
    loss = nn.functional.mse_loss(ddp(inputs), targets)
    recording[0] = True
    loss.backward()
    transport.all_reduce = send
    first = events.index("all-reduce started")
    last_gradient = events.index("last gradient computed")
    if not first < last_gradient:
        raise AssertionError(f"no overlap: {events}")
    report(f"overlap: {events.count('all-reduce started')} all-reduces, "
           f"{events[:last_gradient].count('all-reduce started')} started before the last "
           f"gradient was computed")


class Branches(nn.Module):
    """`shared` is used on every rank, `odd` on rank 1 only, `never` on none."""

    def __init__(self):
        super().__init__()
        self.shared = nn.Linear(4, 2)
        self.odd = nn.Linear(4, 2)
        self.never = nn.Linear(4, 2)

    def forward(self, x):
        out = self.shared(x)
        return out + self.odd(x) if distributed.rank() == 1 else out


def check_unused_parameters():
    model = Branches().to("float64")
    ddp = DistributedDataParallel(model)
    ag.manual_seed(5)
    x = ag.randn(3, 4, dtype=ag.float64)
    for _ in range(2):  # a second step shows the first left no collective behind
        ddp.zero_grad()
        ddp(x).sum().backward()
    local = Branches().to("float64")
    local.load_state_dict(model.state_dict())
    local(x).sum().backward()
    odd_on_rank_1 = distributed.all_gather(local.odd.weight.grad)[1]
    expected = (odd_on_rank_1 * 0.5).numpy()
    if abs(model.odd.weight.grad.numpy() - expected).max() > TOLERANCE:
        raise AssertionError("the parameter used on one rank is not averaged with zeros")
    if model.never.weight.grad is not None:
        raise AssertionError("a parameter no rank used got a gradient")
    report("unused parameters: averaged with zeros, unused everywhere left None, no hang")


def check_fit(folder):
    """nn.fit over sharded loaders: the recorded losses are the means over all samples, the
    same on every rank, and only rank 0 writes a checkpoint."""
    from nn.data import DataLoader, DistributedSampler, TensorDataset

    inputs, targets = samples()
    dataset = TensorDataset(inputs, targets)
    model = build_model(seed=0)
    ddp = DistributedDataParallel(model)
    train = DataLoader(dataset, 4, sampler=DistributedSampler(dataset, seed=3))
    test = DataLoader(dataset, 5, sampler=DistributedSampler(dataset, shuffle=False))
    history = nn.fit(ddp, nn.functional.mse_loss, nn.optim.SGD(ddp.parameters(), lr=0.1),
                     train, epochs=2, test_loader=test)
    if distributed.all_gather(history.test_loss)[1] != history.test_loss:
        raise AssertionError("the ranks recorded different losses")
    with ag.no_grad():
        whole = nn.functional.mse_loss(model(inputs), targets).item()
    if abs(history.test_loss[-1] - whole) > TOLERANCE:
        raise AssertionError(f"test loss {history.test_loss[-1]} is not the mean over all "
                             f"samples, {whole}")
    nn.save(ddp, f"{folder}/written_by_rank_{distributed.rank()}.safetensors")
    report("fit: losses averaged over ranks, checkpoint from rank 0")


def check_failure():
    """Rank 1 raises at step 3 while rank 0 goes on into the next all-reduce."""
    model = build_model(seed=0)
    ddp = DistributedDataParallel(model)
    inputs, targets = samples()
    for step in range(1, 100):
        if step == 3 and distributed.rank() == 1:
            with open(sys.argv[2], "w") as file:
                import time
                file.write(repr(time.time()))
            raise RuntimeError("injected failure at step 3")
        nn.functional.mse_loss(ddp(inputs), targets).backward()


def check_mismatch():
    DistributedDataParallel(build_model(seed=0, hidden=8 + distributed.rank()))


def report(line):
    if distributed.rank() == 0:
        print(line, flush=True)


def main(check):
    distributed.init()
    if distributed.world_size() != 2:
        raise SystemExit("run under mpiexec -n 2")
    if check == "training":
        def sgd(params):
            return nn.optim.SGD(params, lr=0.1, momentum=0.9)

        def adam(params):
            return nn.optim.Adam(params, lr=0.01)

        check_collectives()
        check_equivalence("SGD with momentum", sgd, micro_batches=1)
        check_equivalence("Adam", adam, micro_batches=1)
        check_equivalence("SGD with momentum, no_sync", sgd, micro_batches=2)
        check_equivalence("Adam, no_sync", adam, micro_batches=3)
        check_equivalence("SGD with momentum, averaged micro-batches", sgd, micro_batches=2,
                          no_sync=False)
        check_average_gradients()
        check_overlap()
        check_unused_parameters()
    elif check == "fit":
        check_fit(sys.argv[2])
    elif check == "failure":
        check_failure()
    elif check == "mismatch":
        check_mismatch()
    else:
        raise SystemExit(f"unknown check {check!r}")


if __name__ == "__main__":
    main(sys.argv[1])
