"""A playground session: the settings of the panel, and the data, features, network and
optimiser they make, trained one epoch at a time.

The command line and the browser page both drive a Session: build it from a Config, call
`step()` for each epoch, read `history`, and draw `predict_grid()` as the decision map."""

import math
from dataclasses import dataclass, fields

import autograd as ag
import backends

from .. import optim
from ..data import (DataLoader, StandardScaler, TensorDataset, make_circle, make_gauss, make_spiral,
                    make_xor, train_test_split)
from ..functional import binary_cross_entropy_with_logits
from ..train import CompiledSteps, History, binary_accuracy, evaluate, train_epoch
from .features import FEATURES, feature_matrix
from .model import ACTIVATIONS, INIT_NAMES, build_mlp

DATASETS = {"circle": make_circle, "xor": make_xor, "gauss": make_gauss,
            "spiral": make_spiral}
OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
              "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
EXTENT = 6.0  # the map covers [-EXTENT, EXTENT] in x1 and x2, where every point lies
METRICS = {"accuracy": binary_accuracy}


class ConfigError(ValueError):
    """A setting out of range; `field` names the Config field."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Config:
    """The panel's settings. The defaults learn the spiral from x1 and x2 alone."""

    dataset: str = "spiral"
    noise: float = 0.0
    samples: int = 1000
    test_ratio: float = 0.5
    batch_size: int = 10
    features: tuple = ("x1", "x2")
    hidden: tuple = (8, 8)
    activation: str = "tanh"
    lr: float = 0.01
    optimizer: str = "adam"
    init: str = "xavier"
    epochs: int = 300
    seed: int = 0
    backend: str = "numpy"

    def check(self):
        """Raise ConfigError for the first setting out of range."""
        for f in fields(self):
            problem = _PROBLEMS[f.name](getattr(self, f.name), self)
            if problem:
                raise ConfigError(f.name, problem)


def _choice(options):
    def problem(value, config):
        if value not in options:
            return f"invalid choice {value!r} (choose from {', '.join(options)})"
    return problem


def _integer(low):
    def problem(value, config):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            return f"must be an integer of at least {low}, got {value!r}"
    return problem


def _number(low, high, low_open=False, high_open=False):
    def problem(value, config):
        in_range = (isinstance(value, int | float) and not isinstance(value, bool)
                    and math.isfinite(value)
                    and (low < value if low_open else low <= value)
                    and (value < high if high_open else value <= high))
        if not in_range:
            return (f"must be a number in {'(' if low_open else '['}{low}, {high}"
                    f"{')' if high_open else ']'}, got {value!r}")
    return problem


def _test_ratio(value, config):
    problem = _number(0, 1, low_open=True, high_open=True)(value, config)
    if problem:
        return problem
    n_test = round(config.samples * value)
    if not 0 < n_test < config.samples:
        return (f"{value} of {config.samples} samples leaves {n_test} for testing and "
                f"{config.samples - n_test} for training; both need at least one")


def _features(value, config):
    unknown = [name for name in value if name not in FEATURES]
    if not value or unknown:
        return (f"invalid features {', '.join(unknown) or '(none)'} (choose one or more of "
                f"{', '.join(FEATURES)})")
    if len(set(value)) < len(value):
        return f"a feature is listed twice in {', '.join(value)}"


def _hidden(value, config):
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in value):
        return f"layer widths must be positive integers, got {list(value)}"


def _backend(value, config):
    state = backends.available().get(value, "not a registered backend")
    if state is not True:
        usable = [name for name, ok in backends.available().items() if ok is True]
        return f"{value!r} cannot be used here ({state}); usable: {', '.join(usable)}"


_PROBLEMS = {
    "dataset": _choice(DATASETS),
    "noise": _number(0, 1),
    "samples": _integer(2),
    "test_ratio": _test_ratio,
    "batch_size": _integer(1),
    "features": _features,
    "hidden": _hidden,
    "activation": _choice(ACTIVATIONS),
    "lr": _number(0, math.inf, low_open=True, high_open=True),
    "optimizer": _choice(OPTIMIZERS),
    "init": _choice(INIT_NAMES),
    "epochs": _integer(1),
    "seed": _integer(0),
    "backend": _backend,
}


class Session:
    """The data, network and optimiser of one Config, and the history of its training.

    The features are standardised with the training points' statistics, so that the
    network's first units start unsaturated whatever the features' ranges. Every random
    choice follows `config.seed`: the points, the split and the batch order come from
    seeded Python generators, and the initial weights are drawn on the NumPy backend after
    `ag.manual_seed(config.seed)` (which restarts every backend's stream) and then moved,
    so one seed gives the same run on every backend.

    With `compile=True` each training step runs as an `autograd.jit.compile_step` program
    (the same numbers, less time per step)."""

    def __init__(self, config, compile=False):
        config.check()
        self.config = config
        backend = config.backend
        points, labels = DATASETS[config.dataset](config.samples, config.noise,
                                                  seed=config.seed, backend=backend)
        (self.train_points, self.test_points,
         self.train_labels, self.test_labels) = train_test_split(
            points, labels, test_ratio=config.test_ratio, seed=config.seed)
        self.scaler = StandardScaler().fit(feature_matrix(self.train_points, config.features))
        train_set = TensorDataset(self.features(self.train_points),
                                  self.train_labels.reshape(-1, 1))
        test_set = TensorDataset(self.features(self.test_points),
                                 self.test_labels.reshape(-1, 1))
        self.train_loader = DataLoader(train_set, config.batch_size, shuffle=True,
                                       seed=config.seed)
        self.train_eval_loader = DataLoader(train_set, len(train_set))
        self.test_loader = DataLoader(test_set, len(test_set))
        ag.manual_seed(config.seed)
        self.model = build_mlp(len(config.features), config.hidden, 1, config.activation,
                               config.init, backend="numpy").to(backend)
        self.optimizer = OPTIMIZERS[config.optimizer](self.model.parameters(), lr=config.lr)
        self.loss_fn = binary_cross_entropy_with_logits
        self.steps = CompiledSteps(self.model, self.loss_fn, self.optimizer) if compile else None
        self.history = History()

    @property
    def epoch(self):
        """The number of epochs trained so far."""
        return len(self.history.train_loss)

    def features(self, points):
        """The network's inputs for points of shape (n, 2): the chosen features,
        standardised."""
        return self.scaler.transform(feature_matrix(points, self.config.features))

    def step(self):
        """Train one epoch, then record the loss and accuracy on the whole training and
        test sets."""
        train_epoch(self.model, self.loss_fn, self.optimizer, self.train_loader,
                    steps=self.steps)
        for part, loader in (("train", self.train_eval_loader), ("test", self.test_loader)):
            self.history.record(part, evaluate(self.model, self.loss_fn, loader, METRICS))

    def predict_grid(self, resolution=100):
        """The predicted probability of label 1 on a resolution x resolution grid over
        [-6, 6]^2: row i is x2 = the i-th grid value (from -6 up), column j is x1."""
        points = self.grid_points(resolution)
        self.model.eval()
        with ag.no_grad():
            logits = self.model(self.features(points))
        self.model.train()
        return logits.sigmoid().reshape(resolution, resolution)

    def grid_points(self, resolution):
        """The points of the resolution x resolution grid over [-6, 6]^2, shape
        (resolution**2, 2), row by row: x2 from -6 up, and x1 from -6 up within a row."""
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
            raise ValueError(f"Session.grid_points: resolution must be an integer of at "
                             f"least 2, got {resolution!r}")
        values = ag.arange(resolution, dtype=ag.float32, backend=self.config.backend) \
            * (2 * EXTENT / (resolution - 1)) - EXTENT
        x1 = values.reshape(1, -1).broadcast_to(resolution, resolution)
        x2 = values.reshape(-1, 1).broadcast_to(resolution, resolution)
        return ag.stack([x1.flatten(), x2.flatten()], axis=1)

    def hidden_grids(self, resolution=20):
        """What each hidden unit computes over the grid of `predict_grid`: one tensor of
        shape (width, resolution, resolution) per hidden layer, the unit's activation at
        each grid point. The browser page draws them as the small maps in each neuron."""
        outputs = self.features(self.grid_points(resolution))
        grids = []
        self.model.eval()
        with ag.no_grad():
            # build_mlp alternates Linear and activation: every second module ends a layer.
            for index, module in enumerate(self.model):
                outputs = module(outputs)
                if index % 2 == 1:
                    grids.append(outputs.T.reshape(-1, resolution, resolution))
        self.model.train()
        return grids
