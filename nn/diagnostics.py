"""`python -m nn.diagnostics`: how an initialisation shapes the signal in a deep network.

A stack of Linear layers of one width, each followed by the activation, takes a batch of
N(0, 1) inputs; the table shows, layer by layer, the spread of the activations going
forward and of the gradients coming back from the output. A good initialisation keeps
both steady: with tiny weights ("normal", N(0, 0.01^2)) tanh activations shrink by a
constant factor per layer until the deep layers see almost nothing, and their gradients
fade the same way; Xavier's scale (with tanh's gain) keeps them level."""

import argparse
from dataclasses import dataclass
from pathlib import Path

import autograd as ag
import backends

from .playground.model import ACTIVATIONS, INIT_NAMES, build_mlp


@dataclass
class LayerStatistics:
    """One hidden layer at initialisation: its activations' mean and std over the batch
    and units, the std of the loss gradient with respect to them, and the std of the
    gradient of its Linear weight."""

    layer: int
    activation_mean: float
    activation_std: float
    gradient_std: float
    weight_gradient_std: float


def measure(init="xavier", activation="tanh", layers=5, width=500, batch=1000, seed=0,
            backend=None):
    """Build the network, run one forward and backward pass, and return a
    LayerStatistics per hidden layer and the activations and gradients themselves (for
    histograms). The gradient flowing back from the network's single output is N(0, 1) per
    sample, as a loss's would be."""
    ag.manual_seed(seed)
    model = build_mlp(width, (width,) * layers, 1, activation, init, backend=backend)
    inputs = ag.randn(batch, width, backend=backend)
    activations, h = [], inputs
    for module in model:
        h = module(h)
        if isinstance(module, ACTIVATIONS[activation]):
            activations.append(h)
    weights = [linear.weight for linear in list(model)[0:-1:2]]  # the hidden Linear layers
    upstream = ag.randn(batch, 1, backend=backend)  # a loss's gradient at the output
    gradients = ag.grad(h, activations + weights, grad_outputs=upstream)
    activation_gradients, weight_gradients = gradients[:layers], gradients[layers:]
    rows = [LayerStatistics(layer=i + 1, activation_mean=a.mean().item(),
                            activation_std=a.std().item(), gradient_std=g.std().item(),
                            weight_gradient_std=w.std().item())
            for i, (a, g, w) in enumerate(zip(activations, activation_gradients,
                                              weight_gradients))]
    return rows, activations, activation_gradients


def format_table(rows):
    """The statistics as a text table, one row per hidden layer."""
    header = ("layer", "activation mean", "activation std", "gradient std",
              "weight gradient std")
    lines = ["  ".join(f"{title:>{len(title)}}" for title in header)]
    for row in rows:
        values = (f"{row.layer:>5}", f"{row.activation_mean:>15.3e}",
                  f"{row.activation_std:>14.3e}", f"{row.gradient_std:>12.3e}",
                  f"{row.weight_gradient_std:>19.3e}")
        lines.append("  ".join(values))
    return "\n".join(lines)


def draw_histograms(activations, gradients, path, title):
    """Write a PNG with a histogram per layer: activations on top, gradients below, each
    row on one x scale so that a shrinking spread shows as a narrowing spike."""
    from matplotlib.figure import Figure

    # A fixed layout: the "constrained" solver alone took longer than the network.
    figure = Figure(figsize=(3 * len(activations), 5.5))
    figure.subplots_adjust(left=0.06, right=0.98, bottom=0.06, top=0.86, wspace=0.3,
                           hspace=0.35)
    grid = figure.subplots(2, len(activations), squeeze=False, sharex="row")
    for i, (a, g) in enumerate(zip(activations, gradients)):
        grid[0][i].hist(a.flatten().numpy(), bins=50, color="#0877bd")
        grid[0][i].set_title(f"layer {i + 1}: std {a.std().item():.2e}", fontsize="small")
        grid[1][i].hist(g.flatten().numpy(), bins=50, color="#f59322")
        grid[1][i].set_title(f"gradient std {g.std().item():.2e}", fontsize="small")
    grid[0][0].set_ylabel("activations")
    grid[1][0].set_ylabel("gradients")
    figure.suptitle(title)
    figure.savefig(path, dpi=100)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m nn.diagnostics",
        description="Show the spread of activations and gradients, layer by layer, in a "
                    "deep network at initialisation.")
    add = parser.add_argument
    add("--init", choices=list(INIT_NAMES), default="xavier",
        help="weight initialisation; 'normal' is N(0, 0.01^2) (default: %(default)s)")
    add("--activation", choices=list(ACTIVATIONS), default="tanh",
        help="(default: %(default)s)")
    add("--layers", type=_positive_int, default=5, help="hidden layers (default: %(default)s)")
    add("--width", type=_positive_int, default=500,
        help="units per hidden layer and inputs (default: %(default)s)")
    add("--batch", type=_positive_int, default=1000,
        help="N(0, 1) input samples (default: %(default)s)")
    add("--seed", type=int, default=0, help="(default: %(default)s)")
    add("--backend", default=backends.current().name, help="(default: %(default)s)")
    add("--out", type=Path, default=None,
        help="also write the histograms to this .png file (needs matplotlib)")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:  # only this backend: asking for all of them would import numba for nothing
        backends.get(args.backend)
    except (ValueError, backends.BackendUnavailable) as error:
        parser.error(f"argument --backend: {args.backend!r} cannot be used here ({error})")
    if args.seed < 0:
        parser.error(f"argument --seed: must be a non-negative integer, got {args.seed}")
    if args.out is not None and args.out.suffix.lower() != ".png":
        parser.error(f"argument --out: the name must end in .png, got {str(args.out)!r}")
    if args.out is not None and not args.out.parent.is_dir():
        parser.error(f"argument --out: the folder {str(args.out.parent)!r} does not exist")
    title = (f"init {args.init}, {args.activation}, {args.layers} layers of {args.width} "
             f"units, {args.batch} N(0, 1) inputs")
    rows, activations, gradients = measure(args.init, args.activation, args.layers,
                                           args.width, args.batch, args.seed, args.backend)
    print(title)
    print(format_table(rows))
    first, last = rows[0].activation_std, rows[-1].activation_std
    print(f"activation std, last layer / first layer: {last / first:.3g}")
    if args.out is not None:
        try:
            draw_histograms(activations, gradients, args.out, title)
        except ModuleNotFoundError as error:
            if str(error.name).split(".")[0] != "matplotlib":
                raise
            print(f'no histograms: matplotlib is not installed; pip install "pluggrad[plot]" '
                  f"to get {args.out}")
        else:
            print(f"histograms: {args.out}")
    return 0


if __name__ == "__main__":
    from .command_line import run

    raise SystemExit(run(main))
