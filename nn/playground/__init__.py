"""The playground: two classes of points in the plane (or a target over it), a small
network learning to separate them (or to fit it), and a picture of what it learnt, as
TensorFlow Playground shows.

`python -m nn.playground --help` lists the controls; `Session` (in .session) is the
training logic that the command line drives, epoch by epoch."""

from .features import FEATURES, feature_matrix
from .session import Config, ConfigError, Session

__all__ = ["FEATURES", "Config", "ConfigError", "Session", "feature_matrix"]
