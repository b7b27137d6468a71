"""DataLoader: a dataset in batches, optionally in a fresh random order every epoch."""

import warnings

import autograd as ag

from .dataset import TensorDataset
from .sampling import generator, permutation


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size` samples.

    A TensorDataset's batch is gathered with one indexing op per tensor (a slice when not
    shuffling); samples of any other Dataset are fetched one by one and stacked field by
    field with `ag.stack`. With `shuffle=True` every pass over the loader is a new random
    order; a `seed` makes that sequence of orders the same on every run. `drop_last=True`
    leaves out a final batch smaller than `batch_size`. A `sampler` (an iterable of
    positions with a length, such as a DistributedSampler) gives the order instead.

    Batches are always made in the calling process: PyTorch's `num_workers=0` is accepted,
    and a larger value is ignored with a warning (the data already lives in the backend's
    arrays, so worker processes would only copy it)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 sampler=None, *, num_workers=0):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__, "
                            f"got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, "
                             f"got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: shuffle=True and a sampler both choose the order; "
                             "shuffle with the sampler (DistributedSampler(shuffle=True))")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got "
                             f"{num_workers!r}")
        if num_workers > 0:
            warnings.warn(f"DataLoader: num_workers={num_workers} is ignored; batches are "
                          f"made in this process (num_workers=0)", RuntimeWarning, stacklevel=2)
        self.dataset = dataset
        self.sampler = sampler
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._rng = generator(seed) if seed is not None else None

    def __len__(self):
        """The number of batches in one epoch."""
        full, rest = divmod(self._n_samples(), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def _n_samples(self):
        return len(self.dataset) if self.sampler is None else len(self.sampler)

    def __iter__(self):
        n = self._n_samples()
        order = self._order(n) if self.shuffle or self.sampler is not None else None
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            stop = min(start + self.batch_size, n)
            if isinstance(self.dataset, TensorDataset):
                yield self.dataset[slice(start, stop) if order is None else order[start:stop]]
            else:
                positions = range(start, stop) if order is None else order[start:stop]
                yield _collate([self.dataset[i] for i in positions])

    def _order(self, n):
        """This epoch's order: a tensor on the data's backend for a TensorDataset, a list of
        positions for any other dataset; the sampler's positions when there is one."""
        if self.sampler is not None:
            positions = list(self.sampler)
            if isinstance(self.dataset, TensorDataset):
                return ag.tensor(positions, dtype=ag.int64, backend=self.dataset.backend)
            return positions
        if isinstance(self.dataset, TensorDataset):
            return permutation(n, self._rng, self.dataset.backend)
        return permutation(n, self._rng).tolist()


def _collate(samples):
    """Stack a list of samples into one batch, field by field."""
    first = samples[0]
    if isinstance(first, tuple | list):
        return tuple(_collate([sample[i] for sample in samples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: _collate([sample[key] for sample in samples]) for key in first}
    return ag.stack(samples)
