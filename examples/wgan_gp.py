"""A Wasserstein GAN with gradient penalty (WGAN-GP) on a mixture of 8 Gaussians in 2-D.

    python examples/wgan_gp.py                     # writes wgan_gp.png
    python examples/wgan_gp.py --backend numba --out /tmp/wgan.png

The critic learns a 1-Lipschitz function whose mean gap between real and generated points
estimates the Wasserstein-1 distance; the penalty (|grad critic| - 1)^2 at points between
real and generated ones keeps it Lipschitz, and needs the gradient of a gradient
(`create_graph=True`). The generator moves its points along the critic's gradient until they
cover all 8 modes. The script prints the critic's Wasserstein estimate as training goes,
each mode's share of 2,000 generated points at the end, and draws real against generated
points at a few moments of training.
"""

import argparse
import math
import os
import sys
import time

# Run from a checkout without installing: the repository root holds the packages.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import backends  # noqa: E402
import nn  # noqa: E402

RADIUS, SPREAD = 2.0, 0.05
ANGLES = 2 * math.pi * np.arange(8) / 8
CENTERS = RADIUS * np.stack([np.cos(ANGLES), np.sin(ANGLES)], axis=1)  # the 8 modes


def sample_real(rng, n):
    """n points of the mixture: a random center each, plus Gaussian noise of SPREAD."""
    centers = CENTERS[rng.integers(0, 8, size=n)]
    return ag.tensor(centers + SPREAD * rng.standard_normal((n, 2)), dtype="float32")


def mlp(n_in, n_out, width):
    return nn.Sequential(nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, width), nn.ReLU(), nn.Linear(width, n_out))


def gradient_penalty(critic, real, fake):
    """E[(|grad critic(x)| - 1)^2] at random points x on the segments from real to fake.
    The gradient is taken with create_graph=True, so the penalty's own gradient reaches the
    critic's weights."""
    mix = ag.rand(real.shape[0], 1)
    between = (real * mix + fake * (1.0 - mix)).detach().requires_grad_()
    (grad,) = ag.grad(critic(between).sum(), between, create_graph=True)
    norm = ((grad * grad).sum(axis=1) + 1e-12).sqrt()
    return ((norm - 1.0) ** 2).mean()


def mode_shares(points):
    """The fraction of `points` (an (n, 2) array) nearest to each of the 8 centers."""
    nearest = np.argmin(((points[:, None, :] - CENTERS[None]) ** 2).sum(axis=2), axis=1)
    return np.bincount(nearest, minlength=8) / len(points)


def generate(generator, n):
    with ag.no_grad():
        return generator(ag.randn(n, generator.noise_dim)).numpy()


def train(args):
    backends.set_default(args.backend)
    ag.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    generator, critic = mlp(args.noise_dim, 2, args.width), mlp(2, 1, args.width)
    generator.noise_dim = args.noise_dim
    g_opt = nn.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.9))
    c_opt = nn.optim.Adam(critic.parameters(), lr=args.lr, betas=(0.5, 0.9))
    wasserstein = nn.WassersteinLoss()
    snapshots = []  # (iteration, generated points)
    snapshot_at = {round(args.iterations * f) for f in (0.0, 0.1, 0.3, 1.0)}
    started = time.perf_counter()
    for iteration in range(args.iterations + 1):
        if iteration in snapshot_at:
            snapshots.append((iteration, generate(generator, 1000)))
        if iteration == args.iterations:
            break
        for _ in range(args.critic_steps):
            real = sample_real(rng, args.batch_size)
            fake = generator(ag.randn(args.batch_size, args.noise_dim)).detach()
            # The critic minimises -(E critic(real) - E critic(fake)) + penalty.
            gap_loss = wasserstein(critic(real), 1.0) + wasserstein(critic(fake), -1.0)
            loss = gap_loss + args.penalty * gradient_penalty(critic, real, fake)
            c_opt.zero_grad()
            loss.backward()
            c_opt.step()
        g_opt.zero_grad()
        wasserstein(critic(generator(ag.randn(args.batch_size, args.noise_dim))), 1.0).backward()
        g_opt.step()
        if (iteration + 1) % args.log_every == 0:
            print(f"iteration {iteration + 1:5d}  Wasserstein estimate "
                  f"{-gap_loss.item():.4f}  ({time.perf_counter() - started:.1f} s)")
    return generator, snapshots


def plot(snapshots, rng, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    real = sample_real(rng, 1000).numpy()
    figure, axes = plt.subplots(1, len(snapshots), figsize=(4 * len(snapshots), 4.2))
    for ax, (iteration, points) in zip(np.atleast_1d(axes), snapshots):
        ax.scatter(real[:, 0], real[:, 1], s=4, alpha=0.4, label="real")
        ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.4, label="generated")
        ax.set_title(f"iteration {iteration}")
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
        ax.set_aspect("equal")
    np.atleast_1d(axes)[0].legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="numpy", help="numpy, numba or cupy")
    parser.add_argument("--iterations", type=int, default=1500,
                        help="generator steps (each after --critic-steps critic steps)")
    parser.add_argument("--critic-steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--noise-dim", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--penalty", type=float, default=1.0,
                        help="weight of the gradient penalty")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=250)
    parser.add_argument("--out", default="wgan_gp.png", help="where to write the PNG")
    args = parser.parse_args(argv)

    generator, snapshots = train(args)
    shares = mode_shares(generate(generator, 2000))
    print("share of 2,000 generated points nearest each mode: " +
          " ".join(f"{s:.1%}" for s in shares))
    plot(snapshots, np.random.default_rng(args.seed + 1), args.out)
    print(f"wrote {args.out}")
    return shares


if __name__ == "__main__":
    main()
