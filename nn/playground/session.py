"""A playground session: the settings of the panel, and the data, features, network and
optimiser they make, trained one epoch at a time.

A classification session learns the probability of label 1 (a logit, with binary cross
entropy); a regression session learns the target itself (squared error). Regularisation adds
the L1 or L2 norm of the weights (not the biases) to the training loss, as TensorFlow
Playground does; the losses shown are those of the data alone.

The command line and the browser page both drive a Session: build it from a Config, call
`step()` for each epoch, read `history`, and draw `predict_grid()` as the decision map."""

import math
from dataclasses import dataclass, fields

import autograd as ag
import backends

from .. import distributed, optim
from ..data import (
    DataLoader,
    DistributedSampler,
    StandardScaler,
    TensorDataset,
    make_circle,
    make_gauss,
    make_reg_gauss,
    make_reg_plane,
    make_spiral,
    make_xor,
    train_test_split,
)
from ..functional import binary_cross_entropy_with_logits, mse_loss
from ..layers import Linear
from ..models import ACTIVATIONS, INIT_NAMES, build_mlp
from ..parallel import DistributedDataParallel
from ..train import CompiledSteps, History, binary_accuracy, evaluate, train_epoch
from .features import FEATURES, feature_matrix

CLASSIFICATION_DATASETS = {"circle": make_circle, "xor": make_xor, "gauss": make_gauss,
                           "spiral": make_spiral}
REGRESSION_DATASETS = {"reg-plane": make_reg_plane, "reg-gauss": make_reg_gauss}
PROBLEMS = {"classification": tuple(CLASSIFICATION_DATASETS),
            "regression": tuple(REGRESSION_DATASETS)}
DATASETS = {**CLASSIFICATION_DATASETS, **REGRESSION_DATASETS}
REGULARIZATIONS = ("none", "L1", "L2")
OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
              "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
EXTENT = 6.0  # the map covers [-EXTENT, EXTENT] in x1 and x2, where every point lies
# What the network's output means: the loss it trains, the metrics recorded, and the range
# of the map drawn from it (a probability, or a target in [-1, 1]).
LOSSES = {"classification": binary_cross_entropy_with_logits, "regression": mse_loss}
METRICS = {"classification": {"accuracy": binary_accuracy}, "regression": {}}
OUTPUT_RANGES = {"classification": (0.0, 1.0), "regression": (-1.0, 1.0)}


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
    problem: str = "classification"
    regularization: str = "none"
    regularization_rate: float = 0.0

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


def _dataset(value, config):
    problem = _choice(DATASETS)(value, config)
    if problem:
        return problem
    fitting = PROBLEMS.get(config.problem, ())
    if fitting and value not in fitting:
        return (f"{value!r} is not a {config.problem} data set (for {config.problem}, choose "
                f"from {', '.join(fitting)})")


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
    try:  # only this backend: creating them all would import numba for a NumPy run
        backends.get(value)
    except (ValueError, backends.BackendUnavailable):
        states = backends.available()
        state = states.get(value, "not a registered backend")
        usable = [name for name, ok in states.items() if ok is True]
        return f"{value!r} cannot be used here ({state}); usable: {', '.join(usable)}"


_PROBLEMS = {
    "dataset": _dataset,
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
    "problem": _choice(PROBLEMS),
    "regularization": _choice(REGULARIZATIONS),
    "regularization_rate": _number(0, math.inf, high_open=True),
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
        if distributed.world_size() > 1:  # each rank trains on its shard of every epoch
            self.train_loader = DataLoader(train_set, config.batch_size, sampler=(
                DistributedSampler(train_set, seed=config.seed)))
        else:
            self.train_loader = DataLoader(train_set, config.batch_size, shuffle=True,
                                           seed=config.seed)
        self.train_eval_loader = DataLoader(train_set, len(train_set))
        self.test_loader = DataLoader(test_set, len(test_set))
        ag.manual_seed(config.seed)
        self.model = build_mlp(len(config.features), config.hidden, 1, config.activation,
                               config.init, backend="numpy").to(backend)
        # In a data-parallel job the wrapper averages the gradients over the ranks.
        self.trained_model = DistributedDataParallel(self.model)
        self.optimizer = OPTIMIZERS[config.optimizer](self.model.parameters(), lr=config.lr)
        self.loss_fn = LOSSES[config.problem]
        self.metrics = METRICS[config.problem]
        self.output_range = OUTPUT_RANGES[config.problem]
        if compile and distributed.world_size() > 1:
            raise ConfigError("compile", "a compiled step does not average gradients across "
                              "processes; run data-parallel training without --compile")
        self.steps = (CompiledSteps(self.model, self.training_loss, self.optimizer)
                      if compile else None)
        self.history = History()

    @property
    def epoch(self):
        """The number of epochs trained so far."""
        return len(self.history.train_loss)

    def features(self, points):
        """The network's inputs for points of shape (n, 2): the chosen features,
        standardised."""
        return self.scaler.transform(feature_matrix(points, self.config.features))

    def step(self, on_batch=None):
        """Train one epoch, then record the loss (and, for classification, the accuracy)
        on the whole training and test sets. `on_batch()` is called after each optimiser
        step: an exception from it abandons the epoch, recording nothing."""
        if isinstance(self.train_loader.sampler, DistributedSampler):
            self.train_loader.sampler.set_epoch(self.epoch)
        train_epoch(self.trained_model, self.training_loss, self.optimizer, self.train_loader,
                    on_batch=None if on_batch is None else lambda running_loss: on_batch(),
                    steps=self.steps)
        for part, loader in (("train", self.train_eval_loader), ("test", self.test_loader)):
            self.history.record(part, evaluate(self.model, self.loss_fn, loader,
                                               self.metrics))

    def training_loss(self, output, target):
        """The loss the optimiser minimises: the data's loss plus the regularisation
        penalty."""
        loss = self.loss_fn(output, target)
        if self.config.regularization == "none" or self.config.regularization_rate == 0:
            return loss
        return loss + self.config.regularization_rate * self.penalty()

    def penalty(self):
        """The regularisation term before its rate: the sum of the weights' magnitudes
        (L1) or half the sum of their squares (L2), whose gradient is the weight itself.
        Biases are left free, as in TensorFlow Playground."""
        terms = []
        for weight in self.weights():
            if self.config.regularization == "L1":
                terms.append(weight.abs().sum())
            else:
                terms.append((weight * weight).sum() * 0.5)
        return sum(terms[1:], terms[0])

    def weights(self):
        """Each Linear layer's weight, from the inputs to the output: shape (out, in)."""
        return [module.weight for module in self.model if isinstance(module, Linear)]

    def predict_grid(self, resolution=100):
        """The network's prediction on a resolution x resolution grid over [-6, 6]^2: the
        probability of label 1 for classification, the target for regression. Row i is
        x2 = the i-th grid value (from -6 up), column j is x1."""
        points = self.grid_points(resolution)
        self.model.eval()
        with ag.no_grad():
            output = self.model(self.features(points))
        self.model.train()
        if self.config.problem == "classification":
            output = output.sigmoid()
        return output.reshape(resolution, resolution)

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
