"""Random orders and generators for shuffling, splitting and making data.

A seed given to a loader, a split or a data set feeds a private `random.Random`, so that
asking for the same data twice never moves the backend's stream that initialisation and
dropout draw from (and gives the same data on every backend). Without a seed, draws come
from the backend's stream, which `ag.manual_seed` makes reproducible."""

import random

import autograd as ag


def generator(seed=None):
    """A `random.Random` started from `seed`, or from a draw of the default backend's stream
    when `seed` is None."""
    if seed is None:
        seed = ag.randint(0, 2**62, 1).item()
    return random.Random(seed)


def permutation(n, rng=None, backend=None):
    """A random order of range(n) as an int64 tensor on `backend`: from `rng` (a
    `random.Random`) when given, else from the backend's own stream."""
    if rng is None:
        return ag.randperm(n, backend=backend)
    return ag.tensor(rng.sample(range(n), n), dtype=ag.int64, backend=backend)
