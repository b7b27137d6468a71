"""`python -m nn.playground`: train a playground network from the command line, print its
losses as it learns, and draw the picture.

Every control of the panel is an option; a bad value stops the program with a one-line
message naming the option (exit status 2), as argparse does for its own checks."""

import argparse
from pathlib import Path

import backends

from .. import distributed
from ..models import ACTIVATIONS, INIT_NAMES
from ..optional import optional_import
from .features import FEATURES
from .session import CLASSIFICATION_DATASETS, OPTIMIZERS, Config, ConfigError, Session

LINES_OF_PROGRESS = 10
SERVE_OPTIONS = ("serve", "host", "port", "open_browser")


def _names(text):
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _widths(text):
    try:
        return tuple(int(width) for width in _names(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid layer widths {text!r}: give integers separated by commas, such as 8,8 "
            f"(an empty string for no hidden layer)") from None


def build_parser():
    defaults = Config()
    parser = argparse.ArgumentParser(
        prog="python -m nn.playground",
        description="Train a small network to separate two classes of points in the plane, "
                    "as TensorFlow Playground does, and draw what it learnt.")
    add = parser.add_argument
    add("--dataset", choices=list(CLASSIFICATION_DATASETS), default=defaults.dataset,
        help="the point set (default: %(default)s)")
    add("--noise", type=float, default=defaults.noise,
        help="from 0 (clean) to 1; the playground's 0-50%% is 0-0.5 (default: %(default)s)")
    add("--samples", type=int, default=defaults.samples,
        help="number of points (default: %(default)s)")
    add("--test-ratio", type=float, default=defaults.test_ratio,
        help="fraction of the points held out for testing (default: %(default)s)")
    add("--batch-size", type=int, default=defaults.batch_size,
        help="points per optimiser step (default: %(default)s)")
    add("--features", type=_names, default=defaults.features,
        help=f"comma-separated inputs from {', '.join(FEATURES)}; quote the option in a "
             f"shell (default: {','.join(defaults.features)})")
    add("--hidden", type=_widths, default=defaults.hidden,
        help=f"hidden layer widths, such as 8,8; '' for none "
             f"(default: {','.join(map(str, defaults.hidden))})")
    add("--activation", choices=list(ACTIVATIONS), default=defaults.activation,
        help="the hidden layers' activation (default: %(default)s)")
    add("--lr", type=float, default=defaults.lr, help="learning rate (default: %(default)s)")
    add("--optimizer", choices=list(OPTIMIZERS), default=defaults.optimizer,
        help="(default: %(default)s)")
    add("--init", choices=list(INIT_NAMES), default=defaults.init,
        help="weight initialisation (default: %(default)s)")
    add("--epochs", type=int, default=defaults.epochs,
        help="passes over the training points (default: %(default)s)")
    add("--seed", type=int, default=defaults.seed,
        help="makes the points, the split, the batches and the initial weights "
             "reproducible (default: %(default)s)")
    add("--backend", default=backends.current().name,
        help="numpy, numba, cupy or any registered backend (default: %(default)s, from "
             "AUTOGRAD_BACKEND)")
    add("--compile", action="store_true",
        help="run each training step as one compiled program (autograd.jit.compile_step): "
             "the same numbers, less time per step")
    add("--out", type=Path, default=Path("playground.png"),
        help="where to write the picture, a .png file (default: %(default)s)")
    page = parser.add_argument_group(
        "the playground as a web page (needs the web extra)").add_argument
    page("--serve", action="store_true",
         help="serve a page that trains live in the browser instead of training here; the "
              "options above are its starting settings (see nn.playground.server)")
    page("--host", default="127.0.0.1",
         help="with --serve, the address to listen on (default: %(default)s, this machine "
              "only)")
    page("--port", type=int, default=8000,
         help="with --serve, the port; 0 picks a free one (default: %(default)s)")
    page("--open", dest="open_browser", action="store_true",
         help="with --serve, open the page in a web browser")
    return parser


def parse_config(parser, argv=None):
    """The Config the command line asks for, the picture's path, the --serve options and
    whether to compile the training step; a bad option ends the program through
    parser.error."""
    args = vars(parser.parse_args(argv))
    out = args.pop("out")
    compiled = args.pop("compile")
    serving = {name: args.pop(name) for name in SERVE_OPTIONS}
    if out.suffix.lower() != ".png":
        parser.error(f"argument --out: the picture is a PNG, so the name must end in .png, "
                     f"got {str(out)!r}")
    if not out.parent.is_dir():
        parser.error(f"argument --out: the folder {str(out.parent)!r} does not exist")
    config = Config(**args)
    try:
        config.check()
    except ConfigError as error:
        parser.error(f"argument --{error.field.replace('_', '-')}: {error.message}")
    return config, out, serving, compiled


def describe(config):
    """The run's settings, on one line."""
    if config.hidden:
        layers = f"hidden {','.join(map(str, config.hidden))}, {config.activation}"
    else:
        layers = "no hidden layer"  # so no activation either
    return (f"{config.dataset}: {config.samples} points, noise {config.noise}, "
            f"{round(config.samples * config.test_ratio)} held out for testing | features "
            f"{', '.join(config.features)} | {layers}, "
            f"{config.init} init | {config.optimizer} lr {config.lr}, batch "
            f"{config.batch_size}, {config.epochs} epochs | {config.backend} backend")


def main(argv=None):
    """Train as the options say, printing the losses every tenth of the epochs, write the
    picture, and end with the test accuracy.

    Under an MPI launcher (`mpiexec -n 4 python -m nn.playground ...`) the ranks train
    one network data-parallel, each on its shard of every epoch with --batch-size points
    per step; rank 0 alone prints and draws."""
    parser = build_parser()
    config, out, serving, compiled = parse_config(parser, argv)
    if serving.pop("serve"):
        return _serve(parser, config, **serving)
    distributed.init()
    if distributed.rank() != 0:
        return _train_quietly(config)
    print(describe(config), flush=True)
    if distributed.world_size() > 1:
        print(f"data-parallel over {distributed.world_size()} processes", flush=True)
    session = Session(config, compile=compiled)
    every = max(1, config.epochs // LINES_OF_PROGRESS)
    for epoch in range(1, config.epochs + 1):
        session.step()
        if epoch % every == 0 or epoch == config.epochs:
            history = session.history
            print(f"epoch {epoch:>{len(str(config.epochs))}}/{config.epochs}  "
                  f"train loss {history.train_loss[-1]:.4f}  "
                  f"test loss {history.test_loss[-1]:.4f}", flush=True)
    _write_picture(session, out)
    print(f"test accuracy: {100 * session.history.metrics['test_accuracy'][-1]:.1f}%")
    return 0


def _train_quietly(config):
    """A rank other than 0: the same training steps (each is a collective), no output."""
    session = Session(config)
    for _ in range(config.epochs):
        session.step()
    return 0


def _write_picture(session, out):
    plot, problem = optional_import("nn.playground.plot", "matplotlib", "plot")
    if problem is not None:
        print(f"no picture: {problem} to get {out}")
        return
    plot.draw(session, out)
    print(f"picture: {out}")


def _serve(parser, config, host, port, open_browser):
    """Serve the page until interrupted; a setting the page cannot take, or an address
    that cannot be listened on, ends the program through parser.error."""
    try:
        from .server import serve
    except ModuleNotFoundError as error:
        if str(error.name).split(".")[0] not in ("starlette", "uvicorn"):
            raise
        parser.error(f'argument --serve: {error.name} is not installed; pip install '
                     f'"pluggrad[web]"')
    try:
        return serve(config, host, port, open_browser)
    except ConfigError as error:
        parser.error(f"argument --{error.field.replace('_', '-')}: {error.message}")
    except OSError as error:
        parser.error(f"argument --host/--port: cannot listen on {host}:{port} "
                     f"({error.strerror or error}); choose another")
