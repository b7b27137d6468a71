"""Splitting samples at random into a training and a test part."""

import autograd as ag

from .sampling import generator, permutation


def train_test_split(*tensors, test_ratio=0.5, seed=None):
    """Split tensors along their first axis with one random order shared by all, so that
    rows stay paired: returns `a_train, a_test, b_train, b_test, ...`. The test part
    holds `round(n * test_ratio)` samples; a `seed` makes the split reproducible."""
    if not tensors:
        raise ValueError("train_test_split: needs at least one tensor")
    for position, t in enumerate(tensors):
        if not isinstance(t, ag.Tensor) or t.ndim == 0:
            raise TypeError(f"train_test_split: argument {position} must be a tensor with a "
                            f"first axis over the samples, got {type(t).__name__}")
    lengths = [t.shape[0] for t in tensors]
    if len(set(lengths)) > 1:
        raise ValueError(f"train_test_split: the tensors hold different numbers of samples "
                         f"{lengths}; their first axes must have the same length")
    if not 0 < test_ratio < 1:
        raise ValueError(f"train_test_split: test_ratio must be between 0 and 1 (exclusive), "
                         f"got {test_ratio!r}")
    n = lengths[0]
    n_test = round(n * test_ratio)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_ratio={test_ratio} of {n} samples leaves "
                         f"{n_test} for testing and {n - n_test} for training; both parts "
                         f"need at least one")
    rng = generator(seed) if seed is not None else None
    order = permutation(n, rng, tensors[0].backend)
    parts = []
    for t in tensors:
        index = order.to(backend=t.backend)
        parts += [t[index[n_test:]], t[index[:n_test]]]
    return tuple(parts)
