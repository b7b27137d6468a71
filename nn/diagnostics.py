"""`python -m nn.diagnostics`: how an initialisation shapes the signal in a deep network.

A stack of Linear layers of one width, each followed by the activation, takes a batch of
N(0, 1) inputs; the table shows, layer by layer, the spread of the activations going
forward and of the gradients coming back from the output. A good initialisation keeps
both steady: with tiny weights ("normal", N(0, 0.01^2)) tanh activations shrink by a
constant factor per layer until the deep layers see almost nothing, and their gradients
fade the same way; Xavier's scale (with tanh's gain) keeps them level. With "zeros" every
unit of a layer computes the same thing (the `alike` column counts the units identical to
the layer's first), and since they also get the same gradient, training never tells them
apart: the symmetry that random initialisation exists to break.

The table's columns: `layer act_mean act_std grad_mean grad_std` (as the diagnostics were
specified), then `weight_grad_std` (the spread of the gradient of the layer's Linear
weight) and `alike`."""

import argparse
from dataclasses import dataclass
from pathlib import Path

import autograd as ag
import backends

from .models import ACTIVATIONS, INIT_NAMES, build_mlp
from .optional import optional_import

COLUMNS = ("layer", "act_mean", "act_std", "grad_mean", "grad_std", "weight_grad_std",
           "alike")


@dataclass
class LayerStatistics:
    """One hidden layer at initialisation: its activations' mean and std over the batch
    and units, the mean and std of the loss gradient with respect to them, the std of the
    gradient of its Linear weight, and how many of its units are identical to its first
    (over the whole batch)."""

    layer: int
    activation_mean: float
    activation_std: float
    gradient_mean: float
    gradient_std: float
    weight_gradient_std: float
    units_alike: int


def measure(init="xavier", activation="tanh", depth=5, width=500, batch=1000, seed=0,
            backend=None):
    """Build the network, run one forward and backward pass, and return a
    LayerStatistics per hidden layer and the activations and gradients themselves (for
    histograms). Forward hooks on the activation modules record each layer's output, and a
    tensor hook on each output records the gradient that reaches it. The gradient flowing
    back from the network's single output is N(0, 1) per sample, as a loss's would be."""
    ag.manual_seed(seed)
    model = build_mlp(width, (width,) * depth, 1, activation, init, backend=backend)
    activations, gradients = [], {}

    def record(module, inputs, output):
        layer = len(activations)
        activations.append(output)
        output.register_hook(lambda grad: gradients.__setitem__(layer, grad))

    hooks = [module.register_forward_hook(record) for module in model
             if isinstance(module, ACTIVATIONS[activation])]
    inputs = ag.randn(batch, width, backend=backend)
    output = model(inputs)
    for hook in hooks:
        hook.remove()
    upstream = ag.randn(batch, 1, backend=backend)  # a loss's gradient at the output
    output.backward(upstream)
    activation_gradients = [gradients[layer] for layer in range(depth)]
    weights = [linear.weight for linear in list(model)[0:-1:2]]  # the hidden Linear layers
    rows = [LayerStatistics(layer=i + 1, activation_mean=a.mean().item(),
                            activation_std=a.std().item(), gradient_mean=g.mean().item(),
                            gradient_std=g.std().item(),
                            weight_gradient_std=w.grad.std().item(),
                            units_alike=units_alike(a))
            for i, (a, g, w) in enumerate(zip(activations, activation_gradients, weights))]
    return rows, activations, activation_gradients


def units_alike(activations):
    """How many units (columns) of a (batch, units) activation matrix equal its first unit
    on every sample, to float rounding."""
    difference = (activations - activations[:, :1]).abs().max(axis=0)
    tolerance = 1e-6 * (activations.abs().max().item() + 1e-30)
    return int((difference <= tolerance).sum().item())


def format_table(rows):
    """The statistics as a text table, one row per hidden layer, under COLUMNS."""
    widths = [max(len(title), 10) for title in COLUMNS]
    lines = ["  ".join(f"{title:>{width}}" for title, width in zip(COLUMNS, widths))]
    for row in rows:
        values = (row.layer, row.activation_mean, row.activation_std, row.gradient_mean,
                  row.gradient_std, row.weight_gradient_std, row.units_alike)
        cells = [f"{value:>{width}}" if isinstance(value, int) else f"{value:>{width}.3e}"
                 for value, width in zip(values, widths)]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def draw_histograms(activations, gradients, path, title):
    """Write a PNG with a histogram per layer: activations on top, gradients below, each
    row on one x scale so that a shrinking spread shows as a narrowing spike. Returns None,
    or, when matplotlib cannot be used, the reason and how to fix it."""
    matplotlib_figure, problem = optional_import("matplotlib.figure", "matplotlib", "plot")
    if problem is not None:
        return problem
    # A fixed layout: the "constrained" solver alone took longer than the network.
    figure = matplotlib_figure.Figure(figsize=(3 * len(activations), 5.5))
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
    return None


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
        help="weight initialisation; 'normal' is N(0, 0.01^2), 'zeros' makes every unit of "
             "a layer identical (default: %(default)s)")
    add("--activation", choices=list(ACTIVATIONS), default="tanh",
        help="(default: %(default)s)")
    add("--depth", "--layers", dest="depth", type=_positive_int, default=5,
        help="hidden layers (default: %(default)s)")
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
    title = (f"init {args.init}, {args.activation}, {args.depth} layers of {args.width} "
             f"units, {args.batch} N(0, 1) inputs")
    rows, activations, gradients = measure(args.init, args.activation, args.depth,
                                           args.width, args.batch, args.seed, args.backend)
    print(title)
    print(format_table(rows))
    first, last = rows[0].activation_std, rows[-1].activation_std
    if first > 0:
        print(f"activation std, last layer / first layer: {last / first:.3g}")
    else:
        print("every activation of the first layer is the same: the signal carries nothing")
    if args.out is not None:
        problem = draw_histograms(activations, gradients, args.out, title)
        if problem is None:
            print(f"histograms: {args.out}")
        else:
            print(f"no histograms: {problem} to get {args.out}")
    return 0


if __name__ == "__main__":
    from .command_line import run

    raise SystemExit(run(main))
