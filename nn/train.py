"""The training loop helper: `fit` runs epochs of the usual loop (forward, loss, backward,
step, zero_grad) and keeps a History of losses and metrics per epoch.

Writing that loop by hand stays the primary way; `train_epoch` and `evaluate` are its two
halves, for programs that drive training one epoch at a time (the playground does).
`compile=True` (fit) or `steps=CompiledSteps(...)` (train_epoch) runs each step as an
`autograd.jit.compile_step` program instead of op by op."""

from dataclasses import dataclass, field

from tqdm import tqdm

import autograd as ag

from . import distributed


@dataclass
class History:
    """Per-epoch records: `train_loss` and `test_loss` (empty without a test loader), and
    `metrics["train_<name>"]`, `metrics["test_<name>"]` for each metric given to fit."""

    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)

    def record(self, part, results):
        """Append one epoch's `results` ({"loss": ..., metric name: ...}) for `part`
        ("train" or "test")."""
        getattr(self, f"{part}_loss").append(results["loss"])
        for name, value in results.items():
            if name != "loss":
                self.metrics.setdefault(f"{part}_{name}", []).append(value)


def binary_accuracy(logits, target):
    """The fraction of samples whose logit has the target's side of 0 (targets in {0, 1})."""
    predicted = logits.reshape(target.shape) > 0
    return (predicted == (target > 0.5)).astype(ag.float32).mean()


def accuracy(logits, target):
    """The fraction of samples whose largest logit is at the target class index."""
    return (logits.argmax(axis=-1) == target).astype(ag.float32).mean()


class _Averages:
    """Running means over an epoch's batches, each batch weighted by its sample count, so
    a short last batch counts for what it holds."""

    def __init__(self):
        self.totals, self.samples = {}, 0

    def add(self, count, values):
        self.samples += count
        for name, value in values.items():
            self.totals[name] = self.totals.get(name, 0.0) + count * float(value)

    def means(self):
        return {name: total / self.samples for name, total in self.totals.items()}

    def means_over_ranks(self):
        """The means over every rank's batches of a data-parallel job (a collective: every
        rank calls it); this process's means when it is alone."""
        if distributed.world_size() == 1:
            return self.means()
        gathered = distributed.all_gather((self.samples, self.totals))
        samples = sum(count for count, _ in gathered)
        return {name: sum(totals[name] for _, totals in gathered) / samples
                for name in self.totals}


def _split(batch):
    """A batch's model inputs and its target: the target is the last field."""
    if not isinstance(batch, tuple | list) or len(batch) < 2:
        raise ValueError("fit: each batch must be a tuple (inputs..., target), such as a "
                         "DataLoader over TensorDataset(X, y) yields")
    return batch[:-1], batch[-1]


class CompiledSteps:
    """Training steps compiled with `autograd.jit.compile_step`, one per batch shape (an
    epoch's last batch is often shorter): `steps(inputs, target) -> (loss, output)`."""

    def __init__(self, model, loss_fn, optimizer):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.steps = {}

    def __call__(self, inputs, target):
        if len(inputs) != 1:
            raise ValueError(f"fit(compile=True): a compiled step takes one model input, "
                             f"the batches have {len(inputs)}; train without compile")
        (x,) = inputs
        key = (tuple(x.shape), x.dtype, tuple(target.shape), target.dtype)
        step = self.steps.get(key)
        if step is None:
            step = self.steps[key] = ag.jit.compile_step(self.model, self.loss_fn,
                                                         self.optimizer)
        loss = step(x, target)
        return loss, step.output


def train_epoch(model, loss_fn, optimizer, loader, metrics=None, on_batch=None, steps=None):
    """One pass over `loader` in training mode, one optimiser step per batch. Returns the
    epoch's mean loss and metrics; `on_batch(running_loss)` is called after each step.
    With `steps` (a CompiledSteps for the same model, loss and optimiser), each step runs
    as a compiled program."""
    metrics = metrics or {}
    model.train()
    averages = _Averages()
    for batch in loader:
        inputs, target = _split(batch)
        if steps is not None:
            loss, output = steps(inputs, target)
        else:
            output = model(*inputs)
            loss = loss_fn(output, target)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        with ag.no_grad():
            values = {name: metric(output, target) for name, metric in metrics.items()}
        averages.add(len(target), {"loss": loss.item(), **values})
        if on_batch is not None:
            on_batch(averages.means()["loss"])
    return averages.means_over_ranks()


def evaluate(model, loss_fn, loader, metrics=None):
    """The mean loss and metrics over `loader` in evaluation mode, without a graph; the
    model goes back to the mode it was in."""
    metrics = metrics or {}
    was_training = model.training
    model.eval()
    averages = _Averages()
    try:
        with ag.no_grad():
            for batch in loader:
                inputs, target = _split(batch)
                output = model(*inputs)
                values = {name: metric(output, target) for name, metric in metrics.items()}
                averages.add(len(target), {"loss": loss_fn(output, target), **values})
    finally:
        model.train(was_training)
    return averages.means_over_ranks()


def fit(model, loss_fn, optimizer, train_loader, epochs, test_loader=None, metrics=None,
        progress=True, compile=False):
    """Train for `epochs` passes over `train_loader`, evaluating on `test_loader` after
    each, and return the History.

    `loss_fn(output, target)` must reduce to a mean over the batch. `metrics` maps names
    to functions `metric(output, target)` giving a batch mean, such as
    `{"accuracy": binary_accuracy}`; they are recorded as `train_<name>` (over the batches
    as they were trained) and `test_<name>`. The progress bar shows the running loss and
    stays silent when output is not a terminal or `progress=False`. `compile=True` traces
    each training step once per batch shape and replays it as one program
    (`autograd.jit.compile_step`: same results, less time per step; the model must not
    draw random numbers, as dropout in training mode does).

    In a data-parallel job (nn.distributed) every rank calls fit on its own shard: the
    losses and metrics recorded are the means over all ranks' samples, the progress bar is
    shown by rank 0 only, and a loader's DistributedSampler gets `set_epoch` each epoch."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    history = History()
    shown = progress and distributed.rank() == 0
    sampler = getattr(train_loader, "sampler", None)
    steps = CompiledSteps(model, loss_fn, optimizer) if compile else None
    with tqdm(total=epochs * len(train_loader), unit="batch",
              disable=None if shown else True) as bar:
        def show(running_loss):
            bar.set_postfix(loss=f"{running_loss:.4f}", refresh=False)
            bar.update()

        for epoch in range(epochs):
            bar.set_description(f"epoch {epoch + 1}/{epochs}")
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch)
            history.record("train", train_epoch(model, loss_fn, optimizer, train_loader,
                                                metrics, on_batch=None if bar.disable else show,
                                                steps=steps))
            if test_loader is not None:
                history.record("test", evaluate(model, loss_fn, test_loader, metrics))
                bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}",
                                test_loss=f"{history.test_loss[-1]:.4f}")
    return history
