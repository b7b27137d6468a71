"""Data-parallel training of the playground's spiral: the same script trains alone or on
several processes, unchanged.

    python examples/distributed_spiral.py
    mpiexec -n 2 python examples/distributed_spiral.py

Every process builds the same network, and DistributedDataParallel gives them all rank 0's
weights; each trains on its shard of every batch (DistributedSampler), and the gradients
are averaged over the processes during backward, so all replicas take the same steps. The
batch size is the global one divided by the number of processes, so one process and
several train on the same batches and reach the same accuracy. Rank 0 alone prints.
"""

import argparse

import autograd as ag
import nn
from nn import distributed
from nn.data import (
    DataLoader,
    DistributedSampler,
    StandardScaler,
    TensorDataset,
    make_spiral,
    train_test_split,
)
from nn.parallel import DistributedDataParallel
from nn.train import binary_accuracy

GLOBAL_BATCH = 32


def spiral_sets(samples, seed):
    points, labels = make_spiral(samples, noise=0.1, seed=seed)
    train_x, test_x, train_y, test_y = train_test_split(points, labels.reshape(-1, 1),
                                                        test_ratio=0.5, seed=seed)
    scaler = StandardScaler().fit(train_x)
    return (TensorDataset(scaler.transform(train_x), train_y),
            TensorDataset(scaler.transform(test_x), test_y))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    distributed.init()  # a job of one without an MPI launcher
    ranks = distributed.world_size()
    if GLOBAL_BATCH % ranks:
        raise SystemExit(f"{ranks} processes do not divide the batch of {GLOBAL_BATCH}")
    train_set, test_set = spiral_sets(args.samples, args.seed)
    train_loader = DataLoader(train_set, GLOBAL_BATCH // ranks,
                              sampler=DistributedSampler(train_set, seed=args.seed))
    test_loader = DataLoader(test_set, 256, sampler=DistributedSampler(test_set, shuffle=False))

    ag.manual_seed(args.seed)
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 1))
    parallel_model = DistributedDataParallel(model)
    optimizer = nn.optim.Adam(parallel_model.parameters(), lr=0.01)
    history = nn.fit(parallel_model, nn.functional.binary_cross_entropy_with_logits,
                     optimizer, train_loader, args.epochs, test_loader,
                     metrics={"accuracy": binary_accuracy}, progress=False)
    if distributed.rank() == 0:
        print(f"{ranks} process(es), {args.epochs} epochs: train loss "
              f"{history.train_loss[-1]:.4f}, test loss {history.test_loss[-1]:.4f}")
        print(f"test accuracy: {100 * history.metrics['test_accuracy'][-1]:.1f}%")


if __name__ == "__main__":
    main()
