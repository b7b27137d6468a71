"""pluggrad's nn: modules, layers, losses, initialisers, optimisers and checkpoints, all
written against the public autograd API.

    import nn
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-2)
"""

from . import sibling_check  # noqa: F401, I001  (first: a foreign `autograd` fails by name)
from . import functional, init, optim, utils
from .activations import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .containers import ModuleDict, ModuleList
from .conv import Conv1d, Conv2d
from .embedding import Embedding
from .layers import Dropout, Flatten, Identity, Linear, Sequential, Unflatten
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss,
                     MSELoss, NLLLoss, WassersteinLoss)
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .serialization import load, save

__distribution__ = "pluggrad"  # see backends/family.py

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Flatten", "GELU",
    "HuberLoss", "Identity", "L1Loss", "LeakyReLU", "Linear", "MSELoss", "Module", "ModuleDict",
    "ModuleList", "NLLLoss",
    "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "WassersteinLoss",
    "functional", "init", "load", "optim", "save", "utils",
]
__all__ += [
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d",
    "Embedding", "LayerNorm", "MaxPool2d", "SiLU", "Softplus", "Unflatten",
]

# ---------------------------------------------------------------- data and training loop
from . import data  # noqa: E402
from .train import History, fit  # noqa: E402

__all__ += ["History", "data", "fit"]

# ---------------------------------------------------------------- several processes
from . import distributed, parallel  # noqa: E402

__all__ += ["distributed", "parallel"]
