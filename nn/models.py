"""Ready-made networks: the multilayer perceptron of the playground and of the
initialisation diagnostics, a stack of Linear layers with one activation, initialised by a
named scheme."""

from . import init
from .activations import ReLU, Sigmoid, Tanh
from .layers import Identity, Linear, Sequential

ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid, "linear": Identity}

# Each scheme fills a Linear layer's weight for a network with the named activation (whose
# gain, nn.init.calculate_gain, scales the draw); every scheme but "default" zeroes the bias.
INITIALISATIONS = {
    "zeros": lambda weight, activation: init.zeros_(weight),
    "normal": lambda weight, activation: init.normal_(weight, 0.0, 0.01),
    "xavier": lambda weight, activation: init.xavier_uniform_(
        weight, gain=init.calculate_gain(activation)),
    "kaiming": lambda weight, activation: init.kaiming_normal_(weight, nonlinearity=activation),
    "orthogonal": lambda weight, activation: init.orthogonal_(
        weight, gain=init.calculate_gain(activation)),
}
INIT_NAMES = ("default", *INITIALISATIONS)


def build_mlp(in_features, hidden, out_features, activation="tanh", initialisation="xavier",
              backend=None):
    """Linear layers of widths `in_features, *hidden, out_features`, with `activation`
    after each hidden layer (none after the output).

    `initialisation` is "default" (PyTorch's Linear init), "zeros" (every weight zero:
    all units of a layer compute the same thing and get the same gradient, so they never
    become different), "normal" (N(0, 0.01^2): the
    classic too-small start whose signal fades layer by layer), "xavier" (Glorot uniform,
    scaled by the activation's gain), "kaiming" (He normal, with the activation's gain)
    or "orthogonal"."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"build_mlp: unknown activation {activation!r}; choose from "
                         f"{', '.join(ACTIVATIONS)}")
    if initialisation not in INIT_NAMES:
        raise ValueError(f"build_mlp: unknown initialisation {initialisation!r}; choose from "
                         f"{', '.join(INIT_NAMES)}")
    widths = [in_features, *hidden, out_features]
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers.append(Linear(fan_in, fan_out, backend=backend))
        layers.append(ACTIVATIONS[activation]())
    model = Sequential(*layers[:-1])
    if initialisation != "default":
        for layer in layers[::2]:
            INITIALISATIONS[initialisation](layer.weight, activation)
            init.zeros_(layer.bias)
    return model
