"""`DistributedSampler`: which samples each process of a data-parallel job trains on."""

import math
import random

from .. import distributed


class DistributedSampler:
    """The positions of this rank's shard of `dataset`, for `DataLoader(sampler=...)`.

    Every rank draws the same order (from `seed` plus the epoch set with `set_epoch`, so
    each epoch is shuffled anew yet alike on all ranks) and takes every `num_replicas`-th
    position starting at its rank, so the shards are disjoint. PyTorch's rule makes the
    shards the same length: without `drop_last` the order is padded by repeating its
    start, with it the tail that does not divide evenly is left out. `num_replicas` and
    `rank` default to the job's (nn.distributed, joined here if `init()` has not run)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            distributed.init()  # the job's size and rank (nothing to join when alone)
        num_replicas = distributed.world_size() if num_replicas is None else num_replicas
        rank = distributed.rank() if rank is None else rank
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, int) \
                or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, "
                             f"got {num_replicas!r}")
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank must be an integer from 0 to "
                             f"{num_replicas - 1}, got {rank!r}")
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, rank
        self.shuffle, self.seed, self.drop_last = shuffle, seed, drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        """Use the order of epoch `epoch`: call it before each epoch, on every rank."""
        self.epoch = epoch

    def __len__(self):
        return self.num_samples

    def __iter__(self):
        n = len(self.dataset)
        order = list(range(n))
        if self.shuffle:
            random.Random(self.seed + self.epoch).shuffle(order)
        if self.drop_last:
            order = order[:self.total_size]
        else:
            padding = self.total_size - n
            order += (order * math.ceil(padding / n))[:padding] if n else []
        return iter(order[self.rank:self.total_size:self.num_replicas])
