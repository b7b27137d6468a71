"""Data for training: datasets and batching, splits, preprocessing and the playground's
point sets (four with two classes, two for regression)."""

from .dataset import Dataset, TensorDataset
from .loader import DataLoader
from .preprocessing import PCA, StandardScaler
from .sampler import DistributedSampler
from .split import train_test_split
from .synthetic import (
                        make_circle,
                        make_gauss,
                        make_reg_gauss,
                        make_reg_plane,
                        make_spiral,
                        make_xor,
)

__all__ = [
    "PCA",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "StandardScaler",
    "TensorDataset",
    "make_circle",
    "make_gauss",
    "make_reg_gauss",
    "make_reg_plane",
    "make_spiral",
    "make_xor",
    "train_test_split",
]
