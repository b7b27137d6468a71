"""Datasets: anything with a length that hands out samples by position."""

import autograd as ag


class Dataset:
    """A sized collection of samples. Subclasses define `__len__` and `__getitem__(i)`,
    which returns one sample: a tensor, a number, or a tuple (or dict) of them. A DataLoader
    stacks the samples of a batch field by field."""

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Tensors whose first axes run over the same samples, such as inputs and targets.

    Indexing with an integer tensor returns the whole batch at once, so a DataLoader
    gathers a batch with one indexing op per tensor instead of one per sample."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        for position, t in enumerate(tensors):
            if not isinstance(t, ag.Tensor):
                raise TypeError(f"TensorDataset: argument {position} is a "
                                f"{type(t).__name__}, not a Tensor; wrap it with ag.tensor(...)")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {position} is 0-d; every tensor "
                                 f"needs a first axis over the samples")
        lengths = [t.shape[0] for t in tensors]
        if len(set(lengths)) > 1:
            raise ValueError(f"TensorDataset: the tensors hold different numbers of samples "
                             f"{lengths}; their first axes must have the same length")
        names = sorted({t.backend.name for t in tensors})
        if len(names) > 1:
            raise TypeError(f"TensorDataset: the tensors are on different backends {names}; "
                            f"move them to one with .to({names[0]!r})")
        self.tensors = tensors

    @property
    def backend(self):
        return self.tensors[0].backend

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)
