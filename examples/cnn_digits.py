"""A small convolutional network with batch normalisation on scikit-learn's 8x8 digits.

    python examples/cnn_digits.py                  # the NumPy backend, 15 epochs
    python examples/cnn_digits.py --backend numba

Trains on three quarters of the 1,797 images and reports the accuracy on the held-out
quarter (about 99% after the default 15 epochs, in well under a minute on a CPU).
"""

import argparse
import os
import sys
import time

# Run from a checkout without installing: the repository root holds the packages.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sklearn.datasets import load_digits  # noqa: E402

import autograd as ag  # noqa: E402
import backends  # noqa: E402
import nn  # noqa: E402
from nn.train import accuracy  # noqa: E402


def build_model():
    """Two 3x3 convolutions with BatchNorm, a 2x2 max pool, and a small classifier."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),                                   # (32, 4, 4)
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(64, 10),
    )


def load_data(seed):
    """The digits as (N, 1, 8, 8) images scaled to [0, 1], split 3:1 into train and test."""
    digits = load_digits()
    images = ag.tensor(digits.images.reshape(-1, 1, 8, 8) / 16.0, dtype="float32")
    labels = ag.tensor(digits.target, dtype="int64")
    return nn.data.train_test_split(images, labels, test_ratio=0.25, seed=seed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="numpy", help="numpy, numba or cupy")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    backends.set_default(args.backend)
    ag.manual_seed(args.seed)
    x_train, x_test, y_train, y_test = load_data(args.seed)
    train = nn.data.DataLoader(nn.data.TensorDataset(x_train, y_train),
                               batch_size=args.batch_size, shuffle=True, seed=args.seed)
    test = nn.data.DataLoader(nn.data.TensorDataset(x_test, y_test), batch_size=512)
    model = build_model()
    optimizer = nn.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    print(f"{len(x_train)} training and {len(x_test)} test images, backend {args.backend}")
    started = time.perf_counter()
    for epoch in range(args.epochs):
        history = nn.fit(model, nn.functional.cross_entropy, optimizer, train, epochs=1,
                         test_loader=test, metrics={"accuracy": accuracy}, progress=False)
        scheduler.step()
        print(f"epoch {epoch + 1:2d}  train loss {history.train_loss[-1]:.4f}  "
              f"test loss {history.test_loss[-1]:.4f}  "
              f"test accuracy {history.metrics['test_accuracy'][-1]:.2%}")
    test_accuracy = history.metrics["test_accuracy"][-1]
    print(f"test accuracy {test_accuracy:.2%} after {args.epochs} epochs "
          f"({time.perf_counter() - started:.1f} s)")
    return test_accuracy


if __name__ == "__main__":
    main()
